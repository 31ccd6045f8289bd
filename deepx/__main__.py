"""Command line: `python -m deepx info` lists devices; `python -m deepx report` writes reports/."""
from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    """One line per device, with whether it builds deepx's kernels; the default and why."""
    import deepx as dx
    from deepx.device import default_device_reason

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
    from .report import main as report_main

    return report_main(args)


def main(argv=None) -> int:
    """Entry point of `python -m deepx` and the `deepx` script."""
    parser = argparse.ArgumentParser(prog="python -m deepx", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="list OpenCL platforms/devices and the default device")
    report = sub.add_parser("report", help="run the benchmark suite and write reports/")
    report.add_argument("--quick", action="store_true", help="small sizes, under 3 minutes")
    report.add_argument("--json", help="read this pytest-benchmark JSON instead of running")
    report.add_argument("--out", default="reports", help="output folder (default: reports)")
    args = parser.parse_args(argv)
    return {"info": _info, "report": _report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
