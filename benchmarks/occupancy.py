"""How many cores a training loop keeps busy on an OpenCL CPU device, and who uses them.

    python benchmarks/occupancy.py [--json FILE] [--quick]

The model is the training demo's (deepx.examples.train.digits_cnn, 8x8 digits), one training
step per batch on the default OpenCL device. Three loops per batch size (32, the demo's, and
128), each run for a fixed number of steps after a warm-up:
- demo:   the demo's loop as `python -m deepx.examples.train` runs it (DataLoader, Adam,
          OneCycleLR, running loss and accuracy kept on the device);
- eager:  a fixed batch, zero_grad / forward / backward / SGD with momentum, Python
          dispatching every launch;
- replay: the same SGD step captured once with deepx.graph and replayed, so the host thread
          only enqueues the recorded launches and waits: the device's own ceiling.
Per loop: ms per step; cores busy = CPU seconds of every thread of this process per wall
second; the Python thread's share; the time it was runnable but waited for a core
(/proc/<pid>/task/<tid>/schedstat); and the machine's idle cores (/proc/stat).

Why it exists: the dispatch issue asks that the demo keep both cores busy. On PoCL's CPU
device the host thread and PoCL's worker threads (one per core) share the cores; this
benchmark shows what the device alone can use (replay) beside what the eager loops use.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from timing import emit

LOOPS = ("demo", "eager", "replay")


def _threads() -> dict:
    """{tid: (run ns, runnable-wait ns)} of this process's threads (Linux schedstat)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                run, wait, _ = map(int, f.read().split())
        except OSError:  # the thread ended
            continue
        out[tid] = (run, wait)
    return out


def _idle_ticks() -> tuple[int, int]:
    """(idle + iowait ticks, all ticks) of every core since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)


def occupancy(fn, steps: int, device) -> dict:
    """Run fn() steps times (then synchronize device) and measure where the CPU time went."""
    import deepx as dx

    main = str(os.getpid())
    dx.synchronize(device)
    t0, idle0 = _threads(), _idle_ticks()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    dx.synchronize(device)
    wall = time.perf_counter() - start
    t1, idle1 = _threads(), _idle_ticks()
    used = {tid: (t1[tid][0] - t0.get(tid, (0, 0))[0]) / 1e9 / wall for tid in t1}
    waited = (t1[main][1] - t0[main][1]) / 1e9 / wall
    cores = len(os.sched_getaffinity(0))
    idle = (idle1[0] - idle0[0]) / max(1, idle1[1] - idle0[1]) * cores
    return {"ms_per_step": wall / steps * 1e3, "cores_busy": sum(used.values()),
            "python_thread": used.get(main, 0.0), "python_runnable_waiting": waited,
            "other_threads": sum(v for tid, v in used.items() if tid != main),
            "machine_idle_cores": idle}


def loops(batch: int, device):
    """{name: step function} of the three loops on the demo's model at this batch size."""
    import numpy as np

    import deepx as dx
    import deepx.nn.functional as F
    from deepx.data import DataLoader, TensorDataset, load_digits
    from deepx.examples import train

    dx.manual_seed(0)
    images, labels = load_digits(as_tensors=False)
    images = (images - images.mean()) / images.std()
    loader = DataLoader(TensorDataset(dx.tensor(images, device=device),
                                      dx.tensor(labels, device=device)),
                        batch_size=batch, shuffle=True, drop_last=True)
    model = train.digits_cnn().to(device)
    adam = train.make_optimizer("adam", model.parameters(), 3e-3)
    schedule = dx.optim.lr_scheduler.OneCycleLR(adam, max_lr=3e-3, total_steps=10 ** 6)
    batches = iter(())
    stats = {"loss": 0.0, "correct": 0}

    def demo():  # one step of train.train_epoch, the loader restarted at each epoch's end
        nonlocal batches
        batch_xy = next(batches, None)
        if batch_xy is None:
            batches = iter(loader)
            batch_xy = next(batches)
        x, y = batch_xy
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        adam.zero_grad()
        loss.backward()
        adam.step()
        schedule.step()
        with dx.no_grad():
            stats["loss"] = loss.detach() * len(y) + stats["loss"]
            stats["correct"] = (logits.argmax(dim=1) == y).sum() + stats["correct"]

    sgd_model = train.digits_cnn().to(device)
    sgd = dx.optim.SGD(sgd_model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = dx.tensor(rng.standard_normal((batch, 1, 8, 8), dtype=np.float32), device=device)
    y = dx.tensor(rng.integers(0, 10, batch), device=device)

    def eager():
        sgd.zero_grad()
        F.cross_entropy(sgd_model(x), y).backward()
        sgd.step()

    for _ in range(3):  # momentum buffers exist before the capture (SGD's first step differs)
        eager()
    graph = dx.Graph()
    with dx.graph(graph, device=device):
        eager()
    return {"demo": demo, "eager": eager, "replay": graph.replay}


def opencl_device():
    """The default device when it is an OpenCL one (DEEPX_DEVICE, set_default_device), else the
    first usable OpenCL device; DeviceError when there is none."""
    import deepx as dx

    default = dx.default_device()
    return default if default.type == "opencl" else dx.device("opencl")


def run(quick: bool) -> dict:
    from deepx.report_env import machine, machine_line

    dev = opencl_device()
    steps = 100 if quick else 400
    rows = []
    for batch in (32, 128):
        fns = loops(batch, dev)
        for name in LOOPS:
            for _ in range(10):  # warm-up: kernels compiled at their launch sizes
                fns[name]()
            rows.append({"batch": batch, "loop": name, **occupancy(fns[name], steps, dev)})
    return {"system": "opencl", "device": str(dev), "device_name": dev.backend.runtime.name,
            "machine": machine_line(machine()), "steps": steps, "rows": rows}


def table(result: dict) -> str:
    lines = [f"{result['device_name']} on {result['machine']}, {result['steps']} steps a loop",
             "| batch | loop | ms/step | cores busy | Python thread | Python waiting for a "
             "core | other threads | idle cores |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['batch']} | {r['loop']} | {r['ms_per_step']:.2f} | "
                     f"{r['cores_busy']:.2f} | {r['python_thread']:.2f} | "
                     f"{r['python_runnable_waiting']:.2f} | {r['other_threads']:.2f} | "
                     f"{r['machine_idle_cores']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", default=None, help="write the result here (default: a table)")
    p.add_argument("--quick", action="store_true", help="100 steps a loop instead of 400")
    args = p.parse_args(argv)
    from deepx.errors import DeviceError
    from deepx.report_env import load_average

    before = load_average()
    try:
        result = run(args.quick)
    except DeviceError as exc:  # no OpenCL device: nothing to measure, and say so
        result = {"system": "opencl", "skipped": f"DeviceError: {exc}"}
        if not args.json:
            print(f"occupancy: skipped, no usable OpenCL device ({exc})")
            return 0
    if args.json:
        return emit(result, args.json, "opencl", before)
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
