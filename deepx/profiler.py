"""A kernel profiler: `with dx.profile() as prof:` records every OpenCL kernel launched inside.

It listens on the OpenCL runtime's launch hook (`runtime.LAUNCH_LISTENERS`), keeps each launch's
profiling event, and reads the device timestamps (queue created with PROFILING_ENABLE) when the
block ends. Work on the NumPy device launches no kernels, so it records nothing.

    with dx.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.table(sort_by="total"))
    prof.export_chrome_trace("trace.json")   # chrome://tracing or ui.perfetto.dev
"""
from __future__ import annotations

import dataclasses
import json

# Resolve finished events once this many are pending, so a long loop holds few live events.
_RESOLVE_AT = 1024
# Beyond this many pending events, wait for the oldest (a rare stall instead of unbounded memory).
_PENDING_MAX = 8192


@dataclasses.dataclass
class KernelRecord:
    """One launch: who asked (op), what ran (kernel, global size), when on the device (ns)."""

    op: str
    kernel: str
    global_size: tuple
    start_ns: int
    end_ns: int
    flops: float | None = None

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclasses.dataclass
class KernelStat:
    """Launches aggregated by key: count, total and mean device time, FLOPs where reported."""

    key: tuple
    count: int = 0
    total_ns: int = 0
    flops: float | None = None

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else 0.0

    @property
    def gflops(self) -> float | None:
        """FLOPs per nanosecond is GFLOP/s; None where no launch reported its FLOPs."""
        if self.flops is None or self.total_ns <= 0:
            return None
        return self.flops / self.total_ns


_SORT_KEYS = {
    "total": lambda s: -s.total_ns,
    "mean": lambda s: -s.mean_ns,
    "count": lambda s: -s.count,
    "name": lambda s: tuple(str(k) for k in s.key),
}
_FIELDS = ("op", "kernel", "global_size")


class Profile:
    """Context manager collecting KernelRecords of every OpenCL launch made inside it."""

    def __init__(self) -> None:
        self.records: list[KernelRecord] = []
        self._pending: list = []
        self._listeners = None
        self._complete = None

    # ------------------------------------------------------------ recording
    def __enter__(self) -> Profile:
        try:
            import pyopencl as cl

            from .backend.opencl import runtime
        except ImportError:  # no OpenCL at all: nothing can launch, nothing to record
            return self
        self._complete = cl.command_execution_status.COMPLETE
        self._listeners = runtime.LAUNCH_LISTENERS
        self._listeners.append(self._on_launch)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._listeners is not None:
            self._listeners.remove(self._on_launch)
            self._listeners = None
        self._resolve(wait=True)

    def _on_launch(self, op, kernel_name, global_size, event, flops=None) -> None:
        """The launch hook: keep the event; timestamps are read once it has completed."""
        if event is None:
            return
        self._pending.append((str(op), str(kernel_name), tuple(global_size), event, flops))
        if len(self._pending) >= _RESOLVE_AT:
            self._resolve(wait=len(self._pending) >= _PENDING_MAX)

    def _resolve(self, wait: bool) -> None:
        """Move completed events (all of them when `wait`) from pending to records, in order."""
        done = 0
        for op, kernel, size, event, flops in self._pending:
            if wait:
                event.wait()
            elif event.command_execution_status != self._complete:
                break
            profile = event.profile
            self.records.append(KernelRecord(op, kernel, size, int(profile.start),
                                             int(profile.end), flops))
            done += 1
        del self._pending[:done]

    # ------------------------------------------------------------ summaries
    @property
    def total_ns(self) -> int:
        """Summed device time of every recorded launch."""
        return sum(r.duration_ns for r in self.records)

    def stats(self, group_by=_FIELDS) -> list[KernelStat]:
        """One KernelStat per distinct value of `group_by` (fields of op, kernel, global_size)."""
        group_by = (group_by,) if isinstance(group_by, str) else tuple(group_by)
        unknown = set(group_by) - set(_FIELDS)
        if unknown:
            raise ValueError(f"profile: cannot group by {sorted(unknown)}; use {_FIELDS}")
        found: dict = {}
        for r in self.records:
            key = tuple(getattr(r, f) for f in group_by)
            stat = found.setdefault(key, KernelStat(key))
            stat.count += 1
            stat.total_ns += r.duration_ns
            if r.flops is not None:
                stat.flops = (stat.flops or 0.0) + r.flops
        return list(found.values())

    def by_op(self) -> dict:
        """{op name: total device ns}, largest first: the breakdown of a training step."""
        stats = sorted(self.stats(("op",)), key=_SORT_KEYS["total"])
        return {s.key[0]: s.total_ns for s in stats}

    def table(self, sort_by: str = "total", group_by=_FIELDS, limit: int | None = None) -> str:
        """A text table of the launches grouped by `group_by`, sorted by total/mean/count/name."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"profile.table: sort_by={sort_by!r}; use one of {list(_SORT_KEYS)}")
        group_by = (group_by,) if isinstance(group_by, str) else tuple(group_by)
        stats = sorted(self.stats(group_by), key=_SORT_KEYS[sort_by])
        if limit is not None:
            stats = stats[:limit]
        total = self.total_ns or 1
        with_flops = any(s.flops is not None for s in stats)  # a column only when reported
        header = [*group_by, "count", "total ms", "mean us", "% time"]
        header += ["GFLOP/s"] if with_flops else []
        rows = []
        for s in stats:
            row = [*(_cell(k) for k in s.key), str(s.count), f"{s.total_ns / 1e6:.3f}",
                   f"{s.mean_ns / 1e3:.1f}", f"{100 * s.total_ns / total:.1f}"]
            if with_flops:
                row.append("" if s.gflops is None else f"{s.gflops:.2f}")
            rows.append(row)
        rows.append(["total", *[""] * (len(group_by) - 1), str(len(self.records)),
                     f"{self.total_ns / 1e6:.3f}", "", "100.0" if self.records else ""]
                    + ([""] if with_flops else []))
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        numeric = len(group_by)  # text columns left-aligned, numbers right-aligned

        def line(cells):
            return "  ".join(c.ljust(w) if i < numeric else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule,
                          line(rows[-1])])

    def __str__(self) -> str:
        return self.table()

    # ------------------------------------------------------------ trace export
    def chrome_trace(self) -> dict:
        """The records as a Chrome trace-event dict: one complete ("X") event per launch, in us."""
        t0 = min((r.start_ns for r in self.records), default=0)
        events = [{"name": "process_name", "ph": "M", "pid": 0, "tid": 0,
                   "args": {"name": "deepx OpenCL device"}},
                  {"name": "thread_name", "ph": "M", "pid": 0, "tid": 0,
                   "args": {"name": "in-order queue"}}]
        for r in self.records:
            args = {"op": r.op, "global_size": list(r.global_size)}
            if r.flops is not None:
                args["flops"] = r.flops
            events.append({"name": r.kernel, "cat": r.op, "ph": "X", "pid": 0, "tid": 0,
                           "ts": (r.start_ns - t0) / 1e3, "dur": r.duration_ns / 1e3,
                           "args": args})
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def export_chrome_trace(self, path) -> None:
        """Write chrome_trace() as JSON to `path` (open in chrome://tracing or ui.perfetto.dev)."""
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)


def _cell(value) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


def profile() -> Profile:
    """`with dx.profile() as prof:` records the OpenCL kernels launched inside the block."""
    return Profile()
