"""The backend contract: the primitives every backend implements, with shapes.

dtypes: primitives take deepx DTypes (deepx.dtypes), and the layers above the backends (ops,
autograd, Tensor) read an array's dtype only as a DType, through `deepx.dtypes.of(array)`.
An array's own `.dtype` is the backend's: the OpenCL backend's CLArray carries the deepx DType
itself (its kernels' C type is `DType.cl`), NumpyBackend's arrays are plain ndarrays with a
NumPy dtype. `dtypes.of` reads either (one dict lookup); nothing above the backends compares
an array's `.dtype` directly.

A backend array has `.shape` (tuple of ints) and `.dtype` (see above). It is a view:
elements at `storage_offset + sum(idx * strides)` of a storage that other arrays (views) may
share, as PyTorch's tensors and CMU needle's NDArray. Every primitive accepts any view as input
(the elementwise, reduction, copy and matmul primitives read strided views in place; the others
make a contiguous copy first) and returns a new C-contiguous array. Only the `*_` primitives
write into an argument, through its view. Op kinds inside a family are enums, never strings.
"""
from __future__ import annotations

import enum


class UnaryOp(enum.IntEnum):
    """Elementwise y = f(x); `alpha` is the op's scalar parameter where it has one."""

    NEG = 0
    EXP = 1
    LOG = 2
    SQRT = 3
    ABS = 4
    SIGN = 5
    TANH = 6
    SIGMOID = 7
    RELU = 8
    ERF = 11
    SOFTPLUS = 12       # log(1 + exp(x)), stable
    LEAKY_RELU = 13     # x if x > 0 else alpha * x
    ELU = 14            # x if x > 0 else alpha * (exp(x) - 1)
    STEP = 15           # 1 if x > alpha else 0 (derivative masks)
    RECIPROCAL = 16
    NOT = 19            # logical not; bool in, bool out


class BinaryOp(enum.IntEnum):
    """Elementwise z = f(a, b) with NumPy broadcasting; comparisons give bool."""

    ADD = 0
    SUB = 1
    MUL = 2
    DIV = 3
    POW = 4
    MAXIMUM = 5
    MINIMUM = 6
    EQ = 7
    NE = 8
    LT = 9
    LE = 10
    GT = 11
    GE = 12
    AND = 13
    OR = 14
    FLOOR_DIVIDE = 15   # floor(a / b), Python's //; integer b == 0 gives 0 (ops raise first)
    REMAINDER = 16      # a - floor(a / b) * b, sign of b; integer b == 0 gives 0
    RELU_BACKWARD = 17  # a where b > 0 else 0: relu's gradient a from its output b (PyTorch's
    #                     threshold_backward at 0; NaN in b gives 0)
    BITWISE_AND = 18    # a & b, a | b, a ^ b on integer and bool arrays (two's complement,
    BITWISE_OR = 19     # as NumPy's bitwise_and/or/xor); the result keeps the dtype
    BITWISE_XOR = 20


COMPARISONS = frozenset({BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.LE, BinaryOp.GT,
                         BinaryOp.GE, BinaryOp.AND, BinaryOp.OR})
# integer and bool only: both backends raise DTypeError for floating operands
BITWISE = frozenset({BinaryOp.BITWISE_AND, BinaryOp.BITWISE_OR, BinaryOp.BITWISE_XOR})


class ReduceOp(enum.IntEnum):
    """Reductions over a set of axes."""

    SUM = 0
    MAX = 1
    MIN = 2


class ArgReduceOp(enum.IntEnum):
    """Index-valued reductions over one axis; ties give the first index."""

    ARGMAX = 0
    ARGMIN = 1


class Backend:
    """Base class naming every primitive; each backend overrides all of them.

    Shapes use NumPy broadcasting. `strides` and `offset` count elements, not bytes.
    """

    name = "abstract"

    # ---- transfer and creation ----
    def from_numpy(self, a):
        """Host ndarray (any shape) -> backend array of the same shape and dtype."""
        raise NotImplementedError

    def to_numpy(self, x):
        """Backend array -> host ndarray (a copy)."""
        raise NotImplementedError

    def full(self, shape, value, dtype):
        """A new array of `shape` filled with `value`; dtype is a deepx DType."""
        raise NotImplementedError

    def arange(self, start, step, n, dtype):
        """(n,) array start + i * step."""
        raise NotImplementedError

    def rand(self, shape, dtype, seed, offset):
        """Uniform [0, 1) from a counter-based hash of (seed, offset + i); same on all backends."""
        raise NotImplementedError

    def randn(self, shape, dtype, seed, offset):
        """Standard normal by Box-Muller over counters 2(offset + i) and 2(offset + i) + 1."""
        raise NotImplementedError

    def cast(self, x, dtype):
        """Elementwise conversion to `dtype` (C semantics: float -> int truncates)."""
        raise NotImplementedError

    # ---- elementwise ----
    def unary(self, op, x, alpha=0.0):
        """y = op(x), same shape; dtype kept."""
        raise NotImplementedError

    def binary(self, op, a, b):
        """z = op(a, b); a, b of one dtype, broadcast shapes; comparisons give bool; the
        BITWISE ops take integer and bool arrays only (DTypeError for floating ones)."""
        raise NotImplementedError

    def where(self, cond, a, b):
        """cond ? a : b with broadcasting; cond bool, a and b of one dtype."""
        raise NotImplementedError

    # ---- reductions ----
    def reduce(self, op, x, axes, keepdim):
        """Reduce x over `axes` (a sorted tuple of non-negative ints)."""
        raise NotImplementedError

    def arg_reduce(self, op, x, axis, keepdim):
        """int64 index of the max/min along `axis` (first one on ties)."""
        raise NotImplementedError

    # ---- matmul ----
    def matmul(self, a, b, transpose_a=False, transpose_b=False, bias=None, sum_batch=False):
        """(Ba, M, K) @ (Bb, K, N) -> (B, M, N), Ba and Bb in {B, 1}.

        transpose_a reads a as (Ba, K, M); transpose_b reads b as (Bb, N, K). bias, (N,) or
        (M, 1), is added to every product once it is complete (a linear or conv layer's bias).
        sum_batch: the result is (1, M, N), the sum of the B products (torch.addbmm's
        reduction; a convolution's weight gradient summed over the images in one pass).
        """
        raise NotImplementedError

    # ---- layout ----
    def reshape(self, x, shape):
        """Same data, new shape with the same element count (no copy where possible)."""
        raise NotImplementedError

    def strided_copy(self, x, shape, strides, offset):
        """out[idx] = x.flat[offset + sum(idx * strides)], x.flat in C order of x's shape."""
        raise NotImplementedError

    def strided_assign_(self, dst, shape, strides, offset, src):
        """In place: dst.flat[offset + sum(idx * strides)] = src[idx]; dst dense, src `shape`."""
        raise NotImplementedError

    # ---- views (no copy and no launch, except contiguous) ----
    def as_strided(self, x, shape, strides, offset):
        """A view of x's storage: out[idx] is the element `offset + sum(idx * strides)`
        elements after x's first element in memory (strides and offset in elements, >= 0)."""
        raise NotImplementedError

    def contiguous(self, x):
        """A new C-contiguous copy of the view x."""
        raise NotImplementedError

    def strides(self, x):
        """x's strides in elements: a tuple of ints, one per dim."""
        raise NotImplementedError

    def storage_offset(self, x):
        """Elements between the start of x's storage and x's first element."""
        raise NotImplementedError

    def data_ptr(self, x):
        """An int naming where x's first element lives (equal for views starting there)."""
        raise NotImplementedError

    # ---- indexing ----
    def gather(self, x, index, axis):
        """x (*A, n, *B), index int64 (*I) -> (*A, *I, *B) with out[a, i, b] = x[a, index[i], b]."""
        raise NotImplementedError

    def scatter_add(self, index, src, axis, size):
        """index (*I), src (*A, *I, *B) -> zeros (*A, size, *B) with src summed in at index."""
        raise NotImplementedError

    # ---- per-element indexing and sorting (NumPy: numpy_index.py, OpenCL:
    # opencl/index_primitives.py, kernels/select.cl and sort.cl) ----
    def take_along(self, x, index, axis):
        """torch.gather: x (*S), index int64 (*I), len(I) == len(S), I[d] <= S[d] for d != axis
        -> (*I) with out[i] = x[i with i[axis] replaced by index[i]] (index in [0, S[axis]))."""
        raise NotImplementedError

    def scatter_along(self, x, index, src, axis, accumulate, distinct=False):
        """torch.scatter(_add): x (*S), index int64 and src (*I) -> (*S), a copy of x with
        src[i] written (accumulate False: the last i in C order wins) or added (True) at
        i with i[axis] replaced by index[i]. distinct=True promises no two i hit one place
        (a permutation from argsort), which lets a backend write instead of search."""
        raise NotImplementedError

    def argsort(self, x, axis, descending):
        """Stable sort order of x along axis -> int64 of x's shape; ties keep index order and
        NaN sorts as the largest value (last ascending, first descending), as torch.sort."""
        raise NotImplementedError

    def nonzero(self, x):
        """x (*S) -> int64 (count, len(S)): coordinates of the elements != 0, in C order."""
        raise NotImplementedError

    # ---- in-place updates (optimizers, init) ----
    def assign_(self, dst, src):
        """In place: dst[...] = src (src broadcast to dst's shape); writes through dst's view."""
        raise NotImplementedError

    # ==================================================================== nn primitives
    # Fused neural-network primitives (NumPy: numpy_nn.py, OpenCL: opencl/nn_primitives.py).
    # Images are NCHW; kernel_size, stride, padding, dilation are (h, w) pairs of ints.

    def im2col(self, x, kernel_size, stride, padding, dilation):
        """x (N, C, H, W) -> cols (N, C*KH*KW, OH*OW); row (c, kh, kw), zeros where padded."""
        raise NotImplementedError

    def col2im(self, cols, input_shape, kernel_size, stride, padding, dilation):
        """Adjoint of im2col: cols (N, C*KH*KW, OH*OW) -> (N, C, H, W), each pixel sums its taps."""
        raise NotImplementedError

    def max_pool2d(self, x, kernel_size, stride, padding, dilation, output_size):
        """x (N, C, H, W) -> (out, argmax int64 h*W + w), both (N, C, OH, OW); -inf padding."""
        raise NotImplementedError

    def max_pool2d_backward(self, grad, argmax, input_size, kernel_size, stride, padding,
                            dilation):
        """grad, argmax (N, C, OH, OW) -> (N, C, H, W): each pixel sums grads that chose it."""
        raise NotImplementedError

    def avg_pool2d(self, x, kernel_size, stride, padding, output_size, count_include_pad,
                   divisor):
        """x (N, C, H, W) -> (N, C, OH, OW) window sums / divisor (0: PyTorch's window count)."""
        raise NotImplementedError

    def avg_pool2d_backward(self, grad, input_size, kernel_size, stride, padding,
                            count_include_pad, divisor):
        """grad (N, C, OH, OW) -> (N, C, H, W): each pixel sums grad / divisor of its windows."""
        raise NotImplementedError

    def softmax(self, x, axis, log):
        """Softmax (log=False) or log-softmax (log=True) along `axis`, max-subtracted."""
        raise NotImplementedError

    def softmax_backward(self, out, grad, axis, log):
        """dx from the forward's out: out*(g - sum(g*out)), or g - exp(out)*sum(g) when log."""
        raise NotImplementedError

    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        """x (N, C), target int64 (N,), weight (C,) or None -> (loss (N,), logsumexp (N,))."""
        raise NotImplementedError

    def cross_entropy_backward(self, x, lse, target, weight, grad, ignore_index,
                               label_smoothing):
        """grad (N,) -> dx (N, C) of cross_entropy's per-row loss, given its logsumexp lse."""
        raise NotImplementedError

    def norm_stats(self, x):
        """x (P, C, Q) -> stats (2, C): row 0 the means, row 1 the biased variances over P and
        Q (two-pass)."""
        raise NotImplementedError

    # ---- optimizer primitives (fused, in place) ----
    # param, grad and every state array share one shape and floating dtype; scalars are Python
    # floats/ints/bools; a state array the options leave unused is passed as None.
    # sgd_step_ and adam_step_ are multi-tensor steps, as torch's _fused_sgd_/_fused_adam_:
    # lists of params, grads and states (a state list None when unused), one launch for many
    # parameters on OpenCL; the others take one parameter.
    def sgd_step_(self, params, grads, momentum_bufs, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, first_step):
        """torch.optim.SGD on each param (*S_i), in place on params and momentum_bufs (or
        None); first_step (the momentum buffers' first update) holds for the whole list."""
        raise NotImplementedError

    def adam_step_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1,
                   beta2, eps, weight_decay, step, amsgrad, decoupled, maximize):
        """torch.optim.Adam, or AdamW if decoupled, on each param, step number `step` (from
        1, the same for the whole list) in place; max_exp_avg_sqs None unless amsgrad."""
        raise NotImplementedError

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize):
        """torch.optim.RMSprop on one param (*S), in place; grad_avg/momentum_buf None if unused."""
        raise NotImplementedError

    def adagrad_step_(self, param, grad, state_sum, lr, lr_decay, weight_decay, eps, step,
                      maximize):
        """torch.optim.Adagrad on one param (*S), step number `step` (from 1), in place."""
        raise NotImplementedError

    def adadelta_step_(self, param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                       maximize):
        """torch.optim.Adadelta on one param (*S), in place on param, square_avg, acc_delta."""
        raise NotImplementedError


def conv_out_size(size, kernel, stride, padding, dilation):
    """Output length of a sliding window (im2col, pooling without ceil_mode), as in PyTorch."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
