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
