"""Every Python code block in README.md (and docs/*.md) runs as written."""
from __future__ import annotations

import pathlib
import re
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks():
    return [pytest.param(code, id=f"{doc.name}-{i}") for doc in DOCS
            for i, code in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), re.S))]


@pytest.mark.parametrize("code", _blocks())
def test_code_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    with warnings.catch_warnings():
        # Without Graphviz, viz.draw writes .dot text and says so once: expected here.
        warnings.filterwarnings("ignore", message="deepx.viz.draw", category=UserWarning)
        exec(compile(code, "<doc>", "exec"), {"__name__": "__doc__"})
