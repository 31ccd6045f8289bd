"""Seeing the tape: the recorded computation behind a tensor as Graphviz DOT text or a picture.

`to_dot(loss)` walks the records (Nodes) that produced `loss` and writes one graph node per
record (op name and output shape) and one per leaf tensor that requires grad (its name, or
"parameter" / "input", and its shape), with edges in data-flow direction: leaf -> op -> loss.
It reads only what a Node keeps after backward (`fn`, `parents`, `shape`, `seq`), so a graph
whose saved arrays were released still draws; such records are drawn dashed.

`draw(loss, "graph.svg")` renders the same text with the optional `graphviz` package
(`pip install -e ".[viz]"` in a deepx checkout) and the `dot` program; without them it writes
the .dot file and says how to render it.
"""
from __future__ import annotations

import pathlib
import shutil
import warnings

from .autograd import NODE

__all__ = ["to_dot", "draw"]

# Colours are part of the reading: blue parameters, yellow inputs, grey ops, red output.
_PARAM_STYLE = 'shape=box, style="filled", fillcolor="#cfe2f3"'
_INPUT_STYLE = 'shape=ellipse, style="filled", fillcolor="#fff2cc"'
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"'
_OP_RELEASED_STYLE = 'shape=box, style="rounded,filled,dashed", fillcolor="#eeeeee"'
_OUTPUT_STYLE = 'shape=box, style="rounded,filled", fillcolor="#f4cccc", penwidth=2'
_OUTPUT_RELEASED_STYLE = 'shape=box, style="rounded,filled,dashed", fillcolor="#f4cccc", penwidth=2'

_FORMATS = ("svg", "png", "pdf")


def _quote(text: str) -> str:
    """A DOT double-quoted string; "\\n" in `text` stays a DOT line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape) -> str:
    return str(tuple(int(n) for n in shape))  # (3,), (2, 3), () as everywhere in deepx


def _names(named) -> dict:
    """id(tensor) -> name, from a dict, (name, tensor) pairs or a Module."""
    if named is None:
        return {}
    if hasattr(named, "named_parameters"):
        named = named.named_parameters()
    items = named.items() if isinstance(named, dict) else named
    return {id(t): name for name, t in items}


def _is_parameter(t) -> bool:
    try:
        from .nn.parameter import Parameter
    except ImportError:  # deepx.nn absent or half-built: every leaf is then drawn as a leaf
        return False
    return isinstance(t, Parameter)


def _grad_line(t, show_grads: bool) -> str:
    if not show_grads or t is None or getattr(t, "grad", None) is None:
        return ""
    return "\ngrad " + _shape(t.grad.shape)


def _collect(root_node) -> list:
    """Every record reachable from `root_node`, oldest first (a topological order)."""
    seen, stack = {}, [root_node]
    while stack:  # an explicit stack: graphs of thousands of records, no recursion limit
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(p[1] for p in node.parents if p is not None and p[0] == NODE)
    return sorted(seen.values(), key=lambda n: n.seq)


def to_dot(tensor, params=None, show_grads: bool = True, inputs=None) -> str:
    """Graphviz DOT text of the records that produced `tensor`: records + leaves, data-flow edges.

    params: names for parameter leaves, as dict(model.named_parameters()), (name, tensor)
    pairs or a Module; inputs: names for other leaves (a dict). show_grads: add each leaf's
    .grad shape (after backward) to its label.
    """
    param_names, input_names = _names(params), _names(inputs)
    lines = ["digraph deepx {",
             '  graph [rankdir=TB, fontname="Helvetica"];',
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [color="#555555"];']

    def leaf_line(ident: str, t) -> str:
        param = id(t) in param_names or (id(t) not in input_names and _is_parameter(t))
        if param:
            title, style = param_names.get(id(t), "parameter"), _PARAM_STYLE
        else:
            title, style = input_names.get(id(t), "input"), _INPUT_STYLE
        if t is tensor:
            style = _OUTPUT_STYLE
        label = title + " " + _shape(t.shape) + _grad_line(t, show_grads)
        return f"  {ident} [label={_quote(label)}, {style}];"

    if tensor._node is None:  # a leaf on its own: one node, no edges
        lines.append(leaf_line("leaf0", tensor))
        lines.append("}")
        return "\n".join(lines) + "\n"

    records = _collect(tensor._node)
    op_ids = {id(node): f"op{i}" for i, node in enumerate(records)}
    leaf_ids = {}
    edges = []
    for node in records:
        ident = op_ids[id(node)]
        retained = node.retained() if node.retained is not None else None
        op = node.fn.op_name() if hasattr(node.fn, "op_name") else node.name
        label = op + "\n" + _shape(node.shape) + _grad_line(retained, show_grads)
        released = node.ctx is None  # backward ran without retain_graph: saved arrays freed
        if node is tensor._node:
            style = _OUTPUT_RELEASED_STYLE if released else _OUTPUT_STYLE
        else:
            style = _OP_RELEASED_STYLE if released else _OP_STYLE
        lines.append(f"  {ident} [label={_quote(label)}, {style}];")
        for parent in node.parents:
            if parent is None:
                continue  # an input that needs no gradient was never recorded
            kind, source = parent
            if kind == NODE:
                edges.append(f"  {op_ids[id(source)]} -> {ident};")
                continue
            if id(source) not in leaf_ids:
                leaf_ids[id(source)] = f"leaf{len(leaf_ids)}"
                lines.append(leaf_line(leaf_ids[id(source)], source))
            edges.append(f"  {leaf_ids[id(source)]} -> {ident};")
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _renderer_missing() -> str | None:
    """Why the picture cannot be rendered here, or None when it can."""
    try:
        import graphviz  # noqa: F401 - the optional extra deepx[viz]
    except ImportError:
        return "the Python package `graphviz` is not installed"
    if shutil.which("dot") is None:
        return "the Graphviz program `dot` is not on PATH"
    return None


def draw(tensor, path, params=None, format: str | None = None,  # noqa: A002
         inputs=None) -> pathlib.Path:
    """Render to_dot(tensor, params) to `path` (.svg, .png, .pdf or .dot); returns the path written.

    Without the graphviz package or the dot program it writes `path` with suffix .dot instead
    and warns once with the command that renders it.
    """
    path = pathlib.Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    text = to_dot(tensor, params=params, inputs=inputs)
    if fmt in ("dot", "gv"):
        path.write_text(text)
        return path
    if fmt not in _FORMATS:
        raise ValueError(f"draw: unknown picture format {fmt!r} for {path}; use one of "
                         f"{', '.join(_FORMATS)} or dot")
    missing = _renderer_missing()
    if missing is not None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(text)
        warnings.warn(
            f"deepx.viz.draw: {missing}, so wrote the graph as DOT text to {dot_path} instead "
            f"of {path}. Render it with `dot -T{fmt} {dot_path} -o {path}`; to render directly, "
            "`pip install graphviz` (or `pip install -e '.[viz]'` in a deepx checkout) and "
            "install the Graphviz programs "
            f"(`apt-get install graphviz`, `brew install graphviz`).", stacklevel=2)
        return dot_path
    import graphviz

    path.write_bytes(graphviz.Source(text).pipe(format=fmt))
    return path
