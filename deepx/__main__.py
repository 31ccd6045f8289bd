"""Command line: `python -m deepx info` lists devices; `python -m deepx report` (from a checkout:
it runs benchmarks/report.py) writes a benchmark report."""
from __future__ import annotations

import argparse
import pathlib
import sys


def _info(args) -> int:
    """One line per device, with whether it builds deepx's kernels; the default and why."""
    import deepx as dx
    from deepx._device import default_device_reason

    default = str(dx.default_device())
    status = {}
    try:
        from deepx.backend.opencl.devices import build_status

        status = build_status()
    except ImportError:  # no pyopencl: the NumPy device only
        pass
    for d in dx.devices():
        fields = ", ".join(f"{k}={v}" for k, v in d.items() if k != "name")
        if d["name"].startswith("opencl:"):
            p, i = (int(n) for n in d["name"].split(":")[1:])
            problem = status.get((p, i))
            fields += ", test build=" + ("passed" if problem is None else f"FAILED ({problem})")
        mark = "  <- default" if d["name"] == default else ""
        print(f"{d['name']}: {fields}{mark}")
    print(f"default device: {default} ({default_device_reason()})")
    return 0


def _report(args) -> int:
    """Run benchmarks/report.py of the checkout this deepx is imported from.

    The report runs the benchmark scripts, which live beside it in the repository and are not
    installed with the package, so from an installed deepx this only says where to run it.
    """
    root = pathlib.Path(__file__).resolve().parents[1]
    bench = root / "benchmarks"
    if not ((bench / "report.py").is_file() and (root / "pyproject.toml").is_file()):
        print(f"deepx report: no deepx checkout around {pathlib.Path(__file__).parent}: the "
              "report runs the benchmark scripts of the repository (benchmarks/), which are "
              "not installed with the package. Clone deepx and run `python -m deepx report` "
              "from the checkout's root.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(bench))  # the report and the benchmarks import each other flatly
    from report import main as report_main

    return report_main(args)


def main(argv=None) -> int:
    """Entry point of `python -m deepx` and the `deepx` script."""
    parser = argparse.ArgumentParser(prog="python -m deepx", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="list OpenCL platforms/devices and the default device")
    report = sub.add_parser(
        "report", help="run the benchmark suite and write a report (default: build/report)",
        description="Run the benchmarks, each system in its own process, and write REPORT.md, "
                    "plots and benchmarks.json. A full run takes roughly 10 minutes on 2 "
                    "cores, --quick under 3. Output goes to a scratch folder "
                    "(build/report) unless --out says otherwise; `--out reports` rewrites the "
                    "committed reference report.")
    report.add_argument("--quick", action="store_true",
                        help="small sizes and short timing budgets (about 2-3 minutes)")
    report.add_argument("--json", help="render this saved benchmarks.json instead of running")
    report.add_argument("--out", default="build/report",
                        help="output folder (default: build/report, a scratch folder; "
                             "`reports` is the committed reference)")
    report.add_argument("--readme", metavar="README.md",
                        help="also put the headline between this file's headline markers")
    args = parser.parse_args(argv)
    return {"info": _info, "report": _report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
