"""deepx.viz: the DOT text of a recorded graph, and draw() with and without Graphviz."""
from __future__ import annotations

import importlib
import re
import sys
import time
import types
import warnings

import numpy as np
import pytest

import deepx as dx
from deepx import viz

NODE = re.compile(r"^  (\w+) \[label=\"((?:[^\"\\]|\\.)*)\", (.*)\];$", re.M)
EDGE = re.compile(r"^  (\w+) -> (\w+);$", re.M)


def parse(dot: str):
    """({id: (label, attrs)}, [(tail, head)]) from to_dot's text."""
    nodes = {m[1]: (m[2].replace("\\n", "\n"), m[3]) for m in NODE.finditer(dot)}
    edges = [(m[1], m[2]) for m in EDGE.finditer(dot)]
    return nodes, edges


def leaf(values, requires_grad=True):
    return dx.tensor(np.asarray(values, dtype=np.float32), device="numpy",
                     requires_grad=requires_grad)


def small_graph():
    """L = sum((w * x + b - y) ** 2): 5 records (mul add sub pow sum), 3 leaves (w b x)."""
    w, b, x = leaf([2.0, -1.0, 0.5]), leaf([0.5]), leaf([1.0, 2.0, 3.0])
    y = leaf([4.0, 0.0, 1.0], requires_grad=False)  # needs no grad: never recorded
    loss = ((w * x + b - y) ** 2).sum()
    return loss, w, b, x


def by_label(nodes, text):
    found = [k for k, (label, _) in nodes.items() if label.split("\n")[0].startswith(text)]
    assert len(found) == 1, (text, nodes)
    return found[0]


def test_one_node_per_record_and_leaf():
    loss, w, b, x = small_graph()
    nodes, edges = parse(viz.to_dot(loss, params={"w": w, "b": b}))
    assert len(nodes) == 5 + 3
    ops = sorted(label.split("\n")[0] for k, (label, _) in nodes.items() if k.startswith("op"))
    assert ops == ["add", "mul", "pow", "sub", "sum"]
    assert len(edges) == 3 + 4  # w, x -> mul and b -> add; mul -> add -> sub -> pow -> sum


def test_labels_carry_op_names_and_shapes():
    loss, w, b, x = small_graph()
    nodes, _ = parse(viz.to_dot(loss, params={"w": w, "b": b}))
    assert nodes[by_label(nodes, "mul")][0] == "mul\n(3,)"
    assert nodes[by_label(nodes, "sum")][0] == "sum\n()"
    assert nodes[by_label(nodes, "w")][0] == "w (3,)"
    assert nodes[by_label(nodes, "b")][0] == "b (1,)"
    assert nodes[by_label(nodes, "input")][0] == "input (3,)"  # x: an unnamed leaf


def test_edges_run_in_data_flow_direction():
    loss, w, b, x = small_graph()
    nodes, edges = parse(viz.to_dot(loss, params={"w": w, "b": b}))
    assert (by_label(nodes, "w"), by_label(nodes, "mul")) in edges
    assert (by_label(nodes, "input"), by_label(nodes, "mul")) in edges
    assert (by_label(nodes, "b"), by_label(nodes, "add")) in edges
    assert (by_label(nodes, "mul"), by_label(nodes, "add")) in edges
    assert (by_label(nodes, "pow"), by_label(nodes, "sum")) in edges
    tails, heads = {t for t, _ in edges}, {h for _, h in edges}
    assert by_label(nodes, "sum") not in tails  # the output is the only sink
    assert all(not k.startswith("leaf") for k in heads)  # leaves are sources


def test_parameters_and_inputs_are_styled_apart():
    loss, w, b, x = small_graph()
    nodes, _ = parse(viz.to_dot(loss, params={"w": w, "b": b}, inputs={"x": x}))
    assert nodes[by_label(nodes, "x")][0] == "x (3,)"
    param_style, input_style = nodes[by_label(nodes, "w")][1], nodes[by_label(nodes, "x")][1]
    assert param_style == nodes[by_label(nodes, "b")][1]
    assert param_style != input_style
    assert "penwidth=2" in nodes[by_label(nodes, "sum")][1]  # the output stands out


def test_params_as_pairs_and_unnamed():
    loss, w, b, x = small_graph()
    pairs = viz.to_dot(loss, params=iter([("w", w), ("b", b)]))
    assert pairs == viz.to_dot(loss, params={"w": w, "b": b})
    nodes, _ = parse(viz.to_dot(loss))
    labels = sorted(label for k, (label, _) in nodes.items() if k.startswith("leaf"))
    assert labels == ["input (1,)", "input (3,)", "input (3,)"]


def test_parameter_instances_are_styled_as_parameters():
    parameter = pytest.importorskip("deepx.nn.parameter")
    p = parameter.Parameter(leaf([1.0, 2.0], requires_grad=False))
    x = leaf([3.0, 4.0])
    nodes, _ = parse(viz.to_dot((p * x).sum()))
    assert nodes[by_label(nodes, "parameter")][1] != nodes[by_label(nodes, "input")][1]


def test_gradient_shapes_after_backward():
    loss, w, b, x = small_graph()
    before, _ = parse(viz.to_dot(loss, params={"w": w, "b": b}))
    assert all("grad" not in label for label, _ in before.values())
    loss.backward()
    nodes, _ = parse(viz.to_dot(loss, params={"w": w, "b": b}))
    assert nodes[by_label(nodes, "w")][0] == "w (3,)\ngrad (3,)"
    assert nodes[by_label(nodes, "b")][0] == "b (1,)\ngrad (1,)"
    hidden, _ = parse(viz.to_dot(loss, params={"w": w, "b": b}, show_grads=False))
    assert all("grad" not in label for label, _ in hidden.values())


def test_retained_intermediate_grad_is_shown():
    x = leaf([1.0, 2.0])
    h = x.tanh()
    h.retain_grad()
    loss = (h * h).sum()
    loss.backward()
    nodes, _ = parse(viz.to_dot(loss))
    assert nodes[by_label(nodes, "tanh")][0] == "tanh\n(2,)\ngrad (2,)"


def test_retained_and_released_graphs_both_draw():
    loss, w, b, x = small_graph()
    loss.backward(retain_graph=True)
    retained = viz.to_dot(loss, params={"w": w, "b": b})
    assert "dashed" not in retained
    loss.backward()  # releases the saved arrays: ctx is None, parents/shape/name remain
    released = viz.to_dot(loss, params={"w": w, "b": b})
    assert loss.grad_fn.ctx is None
    assert "dashed" in released  # released records are drawn dashed
    (n1, e1), (n2, e2) = parse(retained), parse(released)
    assert e1 == e2
    assert {k: v[0] for k, v in n1.items()} == {k: v[0] for k, v in n2.items()}


def test_shared_leaf_is_one_node_with_two_edges():
    x = leaf([1.0, 2.0])
    nodes, edges = parse(viz.to_dot((x * x).sum()))
    assert len(nodes) == 3
    assert edges.count(("leaf0", by_label(nodes, "mul"))) == 2


def test_a_leaf_alone_and_a_non_scalar_output():
    x = leaf([[1.0, 2.0]])
    nodes, edges = parse(viz.to_dot(x, inputs={"x": x}))
    assert list(nodes.values())[0][0] == "x (1, 2)" and edges == []
    nodes, _ = parse(viz.to_dot(x.T * 2.0))
    assert len(nodes) == 3  # permute, mul, the leaf


def test_quotes_in_names_are_escaped():
    x = leaf([1.0])
    dot = viz.to_dot((x * 2.0).sum(), params={'a "quoted" \\ name': x})
    assert 'label="a \\"quoted\\" \\\\ name (1,)"' in dot


def test_deep_chain_has_no_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0
    nodes, edges = parse(viz.to_dot(y))
    assert len(nodes) == 3 * sys.getrecursionlimit() + 1
    assert len(edges) == len(nodes) - 1


def test_a_deep_network_draws_fast():
    # A complexity check, not a benchmark: a quadratic walk would take seconds here.
    dx.manual_seed(0)
    h = dx.randn(8, 32, device="numpy")
    params = {}
    for i in range(20):
        w = dx.randn(32, 32, device="numpy").requires_grad_()
        b = dx.zeros(32, device="numpy").requires_grad_()
        params[f"layers.{i}.weight"], params[f"layers.{i}.bias"] = w, b
        h = (h @ w + b).tanh()
    loss = (h * h).mean()
    start = time.perf_counter()
    dot = viz.to_dot(loss, params=params)
    elapsed = time.perf_counter() - start
    nodes, _ = parse(dot)
    assert len(nodes) > 100 and "layers.19.weight (32, 32)" in dot
    assert elapsed < 0.5, elapsed


@pytest.fixture
def numpy_default(monkeypatch):
    """Models build their parameters on the default device: make it NumPy for this test."""
    device_module = importlib.import_module("deepx._device")  # deepx.device is the function
    monkeypatch.setattr(device_module, "_DEFAULT", [dx.Device("numpy")])


def test_a_residual_cnn_draws_fast_with_parameter_names(numpy_default):
    models = pytest.importorskip("deepx.models")
    functional = pytest.importorskip("deepx.nn.functional")
    dx.manual_seed(0)
    model = models.ResNet(blocks=(4, 4, 4), widths=(4, 8, 8))
    loss = functional.cross_entropy(model(dx.randn(2, 1, 12, 12)), dx.tensor([1, 2]))
    loss.backward()  # released records still draw
    start = time.perf_counter()
    dot = viz.to_dot(loss, params=model)
    elapsed = time.perf_counter() - start
    nodes, edges = parse(dot)
    names = dict(model.named_parameters())
    leaves = [label for k, (label, _) in nodes.items() if k.startswith("leaf")]
    assert len(nodes) > 200 and len(leaves) == len(names)
    assert sorted(label.split(" ")[0] for label in leaves) == sorted(names)
    assert all("\ngrad " in label for label in leaves)
    convs = sum(type(m).__name__ == "Conv2d" for m in model.modules())
    assert sum(label.startswith("conv2d\n") for label, _ in nodes.values()) == convs
    assert len(edges) > len(nodes)  # residual additions join two paths
    assert elapsed < 0.5, elapsed


# ---------------------------------------------------------------- draw()
class FakeSource:
    """Stands in for graphviz.Source: records the text and returns fake picture bytes."""

    seen = []

    def __init__(self, text):
        self.text = text

    def pipe(self, format):  # noqa: A002 - graphviz's argument name
        FakeSource.seen.append((self.text, format))
        return b"<picture " + format.encode() + b">"


def test_draw_renders_through_graphviz(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", types.SimpleNamespace(Source=FakeSource))
    monkeypatch.setattr(viz.shutil, "which", lambda name: "/usr/bin/" + name)
    loss, w, b, x = small_graph()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = viz.draw(loss, tmp_path / "g.svg", params={"w": w, "b": b})
    assert out == tmp_path / "g.svg"
    assert out.read_bytes() == b"<picture svg>"
    assert FakeSource.seen[-1] == (viz.to_dot(loss, params={"w": w, "b": b}), "svg")
    assert viz.draw(loss, str(tmp_path / "g.out"), format="png").read_bytes() == b"<picture png>"


@pytest.mark.parametrize("missing", ["package", "program"])
def test_draw_falls_back_to_dot_text_with_one_warning(tmp_path, monkeypatch, missing):
    if missing == "package":
        monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` raises
    else:
        monkeypatch.setitem(sys.modules, "graphviz", types.SimpleNamespace(Source=FakeSource))
        monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    loss, w, b, x = small_graph()
    with pytest.warns(UserWarning) as record:
        out = viz.draw(loss, tmp_path / "graph.png", params={"w": w, "b": b})
    assert len(record) == 1
    message = str(record[0].message)
    assert out == tmp_path / "graph.dot" and not (tmp_path / "graph.png").exists()
    assert out.read_text() == viz.to_dot(loss, params={"w": w, "b": b})
    assert f"dot -Tpng {out} -o {tmp_path / 'graph.png'}" in message
    assert "pip install graphviz" in message and "apt-get install graphviz" in message
    assert ("`graphviz` is not installed" in message) == (missing == "package")


def test_draw_dot_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    loss, *_ = small_graph()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = viz.draw(loss, tmp_path / "g.dot")
    assert out.read_text().startswith("digraph deepx {")


def test_draw_rejects_unknown_formats(tmp_path):
    loss, *_ = small_graph()
    with pytest.raises(ValueError, match="draw: unknown picture format 'jpeg'"):
        viz.draw(loss, tmp_path / "g.jpeg")


def test_draw_with_real_graphviz(tmp_path):
    pytest.importorskip("graphviz")
    if viz.shutil.which("dot") is None:
        pytest.skip("the Graphviz `dot` program is not installed")
    loss, w, b, x = small_graph()
    svg = viz.draw(loss, tmp_path / "g.svg", params={"w": w, "b": b}).read_text()
    assert "<svg" in svg and ">mul<" in svg and ">w (3,)<" in svg
    png = viz.draw(loss, tmp_path / "g.png").read_bytes()
    assert png.startswith(b"\x89PNG")
