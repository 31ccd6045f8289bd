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


def test_ten_line_example_prints_what_its_comment_says(tmp_path, monkeypatch, capsys):
    """The comment on the example's print line gives the values it really prints."""
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOCS[0].read_text(), re.S)
                 if "w.grad = b.grad = None" in b)
    comment = next(line for line in block.splitlines() if line.startswith("print(")).split("#")[1]
    claimed = [float(v) for v in re.search(r"\[(.*?)\]", comment).group(1).split()]
    loss_order = float(re.search(r"~(\S+)", comment).group(1))
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "<README>", "exec"), {"__name__": "__doc__"})
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    loss, vector = printed.split(" ", 1)
    got = [float(v) for v in vector.strip("[] ").split()]
    assert len(got) == len(claimed) and all(abs(g - c) <= 5e-7 for g, c in zip(got, claimed)), \
        f"README says {claimed}, the example prints {got}"
    assert float(loss) < 10 * loss_order, f"README says ~{loss_order}, the example prints {loss}"
