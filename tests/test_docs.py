"""docs/*.md beyond running their code (tests/test_readme.py does that): links resolve, every
page is linked from the README, the math delimiters pair up, and the committed pictures still
show the graphs that deepx.viz draws today."""
from __future__ import annotations

import pathlib
import re

import pytest

import deepx as dx
from deepx import viz

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```", re.S)


def prose(path: pathlib.Path) -> str:
    """The page without its fenced code blocks and inline code."""
    return re.sub(r"`[^`\n]*`", "", CODE.sub("", path.read_text()))


def test_there_are_docs():
    names = {p.name for p in DOCS}
    assert {"autograd.md", "operators.md", "losses.md", "optimizers.md", "initializers.md",
            "regularizers.md", "visualization.md"} <= names


@pytest.mark.parametrize("doc", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    for target in LINK.findall(prose(doc)):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{doc.name}: broken link {target}"


def test_every_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    for doc in DOCS:
        assert f"(docs/{doc.name})" in readme, f"README.md does not link docs/{doc.name}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_math_delimiters_pair_up(doc):
    text = prose(doc)
    assert text.count("$$") % 2 == 0, f"{doc.name}: unpaired $$"
    assert text.replace("$$", "").count("$") % 2 == 0, f"{doc.name}: unpaired $"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_page_checks_its_formulas(doc):
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert blocks and any("assert" in b for b in blocks), f"{doc.name}: no checked example"


def svg_graph(path: pathlib.Path):
    """(node ids, edges) from Graphviz's SVG: each node and edge is a <g> with a <title>."""
    titles = re.findall(r"<title>(.*?)</title>", path.read_text())[1:]  # [0] is the graph's
    edges = {tuple(t.split("&#45;&gt;")) for t in titles if "&#45;&gt;" in t}
    return {t for t in titles if "&#45;&gt;" not in t}, edges


def dot_graph(dot: str):
    nodes = set(re.findall(r"^  (\w+) \[label=", dot, re.M))
    edges = set(re.findall(r"^  (\w+) -> (\w+);$", dot, re.M))
    return nodes, edges


def test_backprop_picture_matches_the_graph():
    # The same graph as docs/autograd.md; regenerate docs/img/backprop.svg if this fails.
    w, b, x, y = (dx.tensor(v, requires_grad=True, device="numpy") for v in (2.0, 1.0, 3.0, 4.0))
    loss = (w * x + b - y) ** 2
    dot = viz.to_dot(loss, params={"w": w, "b": b}, inputs={"x": x, "y": y})
    picture = ROOT / "docs" / "img" / "backprop.svg"
    assert svg_graph(picture) == dot_graph(dot)
    svg = picture.read_text()
    for label in re.findall(r'label="([^"]*)"', dot):
        for line in label.split("\\n"):
            assert f">{line}<" in svg, f"backprop.svg lacks the label {line!r}"


def test_lenet_picture_names_every_parameter():
    svg = (ROOT / "docs" / "img" / "lenet.svg").read_text()
    for name in ("features.0.weight (6, 1, 5, 5)", "features.3.weight (16, 6, 5, 5)",
                 "classifier.1.weight (120, 400)", "classifier.5.bias (10,)"):
        assert f">{name}<" in svg


def test_install_instructions_use_this_repository():
    """PyPI's `deepx` is another project: every instruction installs from the checkout."""
    for path in [ROOT / "README.md", *DOCS, ROOT / "deepx" / "viz.py"]:
        assert not re.search(r"pip install [\"']?deepx\b", path.read_text()), path.name
    assert 'pip install -e ".[dev]"' in (ROOT / "README.md").read_text()


def test_summary_shows_its_table_once_in_a_repl(capsys):
    from deepx import models

    model = models.lenet().to("numpy")
    table = model.summary((1, 28, 28))
    assert capsys.readouterr().out.count("Total params: 61,706") == 1  # printed once
    assert "Total params" not in repr(table) and len(repr(table).splitlines()) == 1
    assert "features.0 (Conv2d)" in table  # still the table, as a str
