"""The global gradient tape: Function, Context, Node, no_grad/enable_grad and backward.

Order comes from the tape, ownership from the tensors: an output holds its Node, a Node holds
its inputs' Nodes (or leaf tensors) and the arrays its backward needs, never its output
strongly. When the last tensor of a graph dies, reference counting frees the whole graph.
"""
from __future__ import annotations

import contextlib
import itertools
import weakref

from . import dtypes
from .backend import BinaryOp
from .errors import DeepxError, DeviceError

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward(). Specify retain_graph=True if you need to backward through "
    "the graph a second time.")


# Parent kinds of a Node: a recorded op's output, or a leaf tensor that accumulates .grad.
NODE, LEAF = 0, 1
# deepx._tensor.Tensor, filled in by _tensor.py when it loads (the tape must not import it)
_Tensor: list = []
_NO_GRADS = {n: (False,) * n for n in range(8)}  # needs_input_grad when nothing is recorded


class Tape:
    """Grad mode, the sequence counter that orders records, and a weak index of live records."""

    def __init__(self) -> None:
        self.grad_enabled = True
        self.counter = itertools.count()
        self.live = weakref.WeakSet()

    def __len__(self) -> int:
        """Number of records still reachable from some live tensor."""
        return len(self.live)


tape = Tape()


def is_grad_enabled() -> bool:
    """True when ops are being recorded."""
    return tape.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode = True

    def _recreate_cm(self):
        # A decorated function gets a fresh manager per call, so recursion and nesting each
        # restore their own previous mode.
        return type(self)()

    def __enter__(self):
        self.prev = tape.grad_enabled
        tape.grad_enabled = self.mode

    def __exit__(self, *exc):
        tape.grad_enabled = self.prev
        return False


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disable recording, like torch.no_grad (as `with` block or decorator)."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Enable recording inside a no_grad region, like torch.enable_grad."""

    mode = True


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's name
    """torch.inference_mode(mode=True): here the same as no_grad (deepx has no separate
    inference tensors); inference_mode(False) records as usual."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode

    def _recreate_cm(self):
        return inference_mode(not self.mode)


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """torch.set_grad_enabled(mode): sets grad mode at once when called; as a `with` block
    or decorator, restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = tape.grad_enabled
        self.mode = bool(mode)
        tape.grad_enabled = self.mode

    def __enter__(self):
        tape.grad_enabled = self.mode  # the previous mode was taken when called

    def __call__(self, func):
        tape.grad_enabled = self.prev  # as a decorator, decorating changes nothing by itself
        return super().__call__(func)

    def _recreate_cm(self):
        return set_grad_enabled(self.mode)  # per call: takes that call's previous mode


class VersionCounter:
    """Bumped by every in-place change of a tensor's data; checked by backward."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Context:
    """What a forward leaves for its backward: saved arrays, attributes, needs_input_grad."""

    def __init__(self, backend, needs_input_grad) -> None:
        self.backend = backend
        self.needs_input_grad = needs_input_grad
        self.saved = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays (or None) for backward; released after it runs."""
        self.saved = arrays

    @property
    def saved_tensors(self):
        """The arrays given to save_for_backward, in order."""
        return self.saved


class Node:
    """One record on the tape: the Function, its Context and where its inputs came from."""

    __slots__ = ("fn", "ctx", "parents", "seq", "versions", "retained", "shape", "backend",
                 "__weakref__")

    def __init__(self, fn, ctx, parents, versions, shape, backend) -> None:
        self.fn = fn
        self.ctx = ctx
        # per positional input: None, (NODE, Node) or (LEAF, Tensor)
        self.parents = parents
        self.seq = next(tape.counter)
        self.versions = versions
        self.retained = None
        self.shape = shape
        self.backend = backend  # where this record's output (and so its gradient) lives
        tape.live.add(self)

    @property
    def name(self) -> str:
        """The op's name as a record shows it (ReLUFunction's record is ReLU, as ReluBackward)."""
        return self.fn.__name__.removesuffix("Function")

    def __repr__(self) -> str:
        # PyTorch's spelling: <MulBackward0 object at 0x...>
        return f"<{self.name}Backward0 object at {hex(id(self))}>"


class Function:
    """A differentiable op: static forward(ctx, *arrays, **attrs) and backward(ctx, grad).

    Positional arguments of `apply` are Tensors (or None); keyword arguments are plain
    attributes. `backward` returns one gradient array (or None) per positional argument.
    `forward` returns one array, or a tuple (output, *extras): only the first is differentiable
    and the extras (max_pool2d's indices) come back as plain tensors, as PyTorch's
    mark_non_differentiable outputs; `apply` then returns a tuple too.
    """

    name = None  # the public name used in error messages; defaults to the class name
    moves_device = False  # True only for a transfer: its output lives on kwargs["device"]
    is_view = False  # True when the output shares the first input's storage (ops/views.py)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def op_name(cls) -> str:
        return cls.name or cls.__name__.lower()

    @classmethod
    def apply(cls, *args, **kwargs):
        """Check devices, run forward on the backend arrays, record a Node when needed.

        This is the hot path of every op: it does only what depends on the call.
        """
        tensor_cls = _Tensor[0]
        device = first = None
        record = False
        arrays = []
        for a in args:
            if not isinstance(a, tensor_cls):
                arrays.append(a)
                continue
            if first is None:
                first, device = a, a.device
            elif a.device is not device and a.device != device:
                raise DeviceError(
                    f"{cls.op_name()}: expected all tensors on one device, got {device} "
                    f"(shape {tuple(first.shape)}) and {a.device} (shape {tuple(a.shape)}); "
                    "move one with .to(device)")
            if a._requires_grad:
                record = True
            arrays.append(a._data)
        record = record and tape.grad_enabled
        if record:
            needs = tuple(isinstance(a, tensor_cls) and a._requires_grad for a in args)
        else:
            needs = _NO_GRADS.get(len(args)) or (False,) * len(args)
        ctx = Context(device.backend, needs)
        out = cls.forward(ctx, *arrays, **kwargs)
        extras = ()
        if type(out) is tuple:  # (differentiable output, *non-differentiable extras)
            out, *extras = out
        record = record and dtypes.of(out).is_floating_point
        result = tensor_cls._wrap(out, kwargs["device"] if cls.moves_device else device,
                                  requires_grad=record)
        if extras:
            extras = tuple(tensor_cls._wrap(e, result.device) for e in extras)
        if cls.is_view:  # shares the input's storage: and so its version counter and base
            result._version = first._version
            result._base = first if first._base is None else first._base
        if record:
            parents = []
            for a in args:
                if not (isinstance(a, _Tensor[0]) and a._requires_grad):
                    parents.append(None)
                elif a._node is not None:
                    parents.append((NODE, a._node))
                else:
                    parents.append((LEAF, a))
            versions = ()
            if ctx.saved:
                saved = {id(s) for s in ctx.saved if s is not None}
                # extras too: an in-place change of the returned indices must not go unseen
                versions = [(a._version, a._version.value, tuple(a.shape))
                            for a in (*args, *extras)
                            if isinstance(a, tensor_cls) and id(a._data) in saved]
            result._node = Node(cls, ctx, parents, versions, out.shape,
                                result.device.backend)
        else:
            ctx.saved = ()
        return (result, *extras) if extras else result


def _accumulate(backend, old, new):
    return new if old is None else backend.binary(BinaryOp.ADD, old, new)


def backward(root, grad=None, retain_graph=False) -> None:
    """Replay the records leading to `root` in reverse, summing into leaves' .grad."""
    from ._tensor import Tensor

    if not root.requires_grad:
        raise DeepxError("backward: element 0 of tensors does not require grad and does not "
                         "have a grad_fn")
    backend = root.device.backend
    if grad is None:
        if root.numel() != 1:
            raise DeepxError(f"backward: grad can be implicitly created only for scalar "
                             f"outputs, got shape {tuple(root.shape)}; pass grad=")
        g = backend.full(tuple(root.shape), 1.0, root.dtype) if root.shape else \
            _constant(backend, 1.0, root.dtype)
    else:
        grad = grad if isinstance(grad, Tensor) else Tensor._wrap(
            backend.from_numpy(_host(grad, root.dtype)), root.device)
        if grad.device != root.device:
            raise DeviceError(f"backward: grad is on {grad.device} but the tensor is on "
                              f"{root.device} (shape {tuple(root.shape)})")
        if tuple(grad.shape) != tuple(root.shape):
            raise DeepxError(f"backward: grad has shape {tuple(grad.shape)} but the tensor has "
                             f"shape {tuple(root.shape)}")
        g = backend.cast(grad._data, root.dtype) if grad.dtype is not root.dtype else grad._data
    handed_out = {backend.data_ptr(g)}

    def to_leaf(leaf, array):
        lb = leaf.device.backend
        # A gradient array may be shared by several inputs (x + x), be the caller's own
        # `grad` or a view of another gradient: store a fresh dense copy as .grad then, since
        # optimizers may update it in place.
        if lb.data_ptr(array) in handed_out or not array.shape:  # 0-d: maybe a shared constant
            array = lb.contiguous(array)
        else:
            array = lb.packed(array)
        handed_out.add(lb.data_ptr(array))
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(array, leaf.device)
        else:
            leaf.grad = Tensor._wrap(lb.binary(BinaryOp.ADD, leaf.grad._data, array),
                                     leaf.device)

    if root._node is None:
        to_leaf(root, g)
        return
    # Collect reachable records with an explicit stack: deep graphs never hit recursion limits.
    nodes, stack = {}, [root._node]
    while stack:
        node = stack.pop()
        if id(node) in nodes:
            continue
        nodes[id(node)] = node
        stack.extend(p[1] for p in node.parents if p is not None and p[0] == NODE)
    pending = {id(root._node): g}
    for node in sorted(nodes.values(), key=lambda n: n.seq, reverse=True):
        g = pending.pop(id(node), None)
        if g is None:
            continue
        if node.ctx is None:
            raise DeepxError(f"backward: {node.name}: {_SECOND_BACKWARD}")
        for counter, version, shape in node.versions:
            if counter.value != version:
                raise DeepxError(
                    f"backward: {node.name}: one of the variables needed for gradient "
                    f"computation has been modified by an inplace operation: tensor of shape "
                    f"{shape} is at version {counter.value}; expected version {version}")
        if node.retained is not None and node.retained() is not None:
            to_leaf(node.retained(), g)
        grads = node.fn.backward(node.ctx, g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if not retain_graph:
            node.ctx = None
        for parent, grad_in in zip(node.parents, grads):
            if parent is None or grad_in is None:
                continue
            kind, target = parent
            if kind == NODE:
                pending[id(target)] = _accumulate(target.backend, pending.get(id(target)),
                                                  grad_in)
            else:
                to_leaf(target, grad_in)


def _constant(backend, value, dtype):
    from .ops.arrays import constant

    return constant(backend, value, dtype)


def _host(data, dtype):
    import numpy as np

    return np.asarray(data, dtype=dtype.np)
