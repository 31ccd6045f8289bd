"""docs/pytorch.md stays true: every `deepx.` name it lists exists (and, with PyTorch
installed, so does the same name in torch), and every PyTorch name under "Out of scope" is
still absent from deepx."""
from __future__ import annotations

import importlib
import pathlib
import re

import pytest

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "pytorch.md"
CODE_BLOCK = re.compile(r"```.*?```", re.S)
NAME = re.compile(r"`((?:deepx|torch)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")


def _sections() -> tuple[str, str]:
    """(everything before "## Out of scope", that section), without fenced code blocks."""
    text = CODE_BLOCK.sub("", PAGE.read_text())
    head, _, tail = text.partition("\n## Out of scope\n")
    assert tail, "docs/pytorch.md lost its 'Out of scope' section"
    return head, tail


def _resolve(dotted: str):
    """The object at a dotted path, importing the top package; AttributeError if absent."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


def _listed() -> list[str]:
    head, _ = _sections()
    names = [n for n in NAME.findall(head) if n.startswith("deepx.")]
    return list(dict.fromkeys(names))


def test_the_page_lists_many_names():
    # guards the parsing: the tables hold well over a hundred names
    assert len(_listed()) > 150


@pytest.mark.parametrize("name", _listed())
def test_listed_name_exists_in_deepx(name):
    _resolve(name)


@pytest.mark.parametrize("name", _listed())
def test_listed_name_is_also_pytorch_s(name):
    pytest.importorskip("torch")
    torch_name = "torch" + name[len("deepx"):]
    try:
        _resolve(torch_name)
    except AttributeError:
        pytest.fail(f"docs/pytorch.md lists {name}, but PyTorch has no {torch_name}")


def _out_of_scope() -> list[str]:
    _, tail = _sections()
    return list(dict.fromkeys(n for n in NAME.findall(tail) if n.startswith("torch.")))


def test_out_of_scope_names_are_listed():
    assert "torch.nn.LSTM" in _out_of_scope()


@pytest.mark.parametrize("name", _out_of_scope())
def test_out_of_scope_name_is_still_absent(name):
    ours = "deepx" + name[len("torch"):]
    with pytest.raises((AttributeError, ModuleNotFoundError)):
        _resolve(ours)
