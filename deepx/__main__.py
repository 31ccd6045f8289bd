"""Command line: `python -m deepx info` lists devices; `python -m deepx report` writes reports/."""
from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    import deepx as dx

    for d in dx.devices():
        fields = ", ".join(f"{k}={v}" for k, v in d.items() if k != "name")
        print(f"{d['name']}: {fields}")
    print(f"default device: {dx.default_device()}")
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
