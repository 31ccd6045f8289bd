"""OpenCL matmul (kernels/matmul.cl): the blocked CPU kernel over packed panels, the tiled GPU
kernel, and the naive reference kernel, chosen per device; a mixin of OpenCLBackend.

The blocked path (PoCL and other CPU devices) packs A into panels of WPT_M rows and B into
panels of VEC columns, zero-padded (kernels/matmul.cl's header gives the layout), then one
work-item computes a WPT_M x VEC block of C. Its launches are prepared once per shape.
"""
from __future__ import annotations

import numpy as np
import pyopencl as cl

from ... import dtypes
from ...errors import DTypeError, OpenCLError, ShapeError
from .. import BinaryOp, ReduceOp
from .array import CLArray
from .matmul_config import MatmulConfig, blocked_defines, blocked_rows, candidate_configs
from .runtime import PER_CALL

_BOOL, _INT32 = dtypes.bool_, dtypes.int32
# matmul_blocked reads B in place (no packed copy) up to this many rows of C
_IN_PLACE_B_MAX_M = 64


class CLMatmulPrimitives:
    """Mixin of OpenCLBackend: `matmul` and the variants the benchmarks compare."""

    def matmul(self, a, b, transpose_a=False, transpose_b=False, bias=None, sum_batch=False):
        bias_mode = 0
        if bias is not None:
            bias = self.packed(self._to(bias, a.dtype))
            bias_mode = 1 if bias.ndim == 1 else 2  # (N,) per column, (M, 1) per row
        # the pack kernels read any strided view: its layout is part of the plan
        key = ("matmul", a.dtype, a.shape, a.strides, a.offset, b.dtype, b.shape, b.strides,
               b.offset, transpose_a, transpose_b, None if bias is None else bias.shape,
               sum_batch)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._matmul_plan(key, a, b, transpose_a, transpose_b, bias_mode, bias,
                                     sum_batch)
            if plan is None:  # not the blocked kernel's case: the general path, then the bias
                out = self.matmul_variant(None, a, b, transpose_a, transpose_b)
                if sum_batch:
                    out = self.reduce(ReduceOp.SUM, out, (0,), True)
                return out if bias is None else self.binary(BinaryOp.ADD, out, bias)
        (out_shape, dtype, nbytes, pack_a, pa_bytes, pack_b, pb_bytes, blocked) = plan
        run, alloc = self.runtime.run, self.runtime.alloc
        pa = alloc(pa_bytes)
        run(pack_a, (a.data, pa))
        pb = b.data
        if pack_b is not None:
            pb = alloc(pb_bytes)
            run(pack_b, (b.data, pb))
        out = CLArray(out_shape, dtype, alloc(nbytes))
        run(blocked, (None if bias is None else bias.data, pa, pb, out.data))
        return out

    def _matmul_plan(self, key, a, b, transpose_a, transpose_b, bias_mode=0, bias=None,
                     sum_batch=False):
        """Prepared launches of the blocked matmul (pack a, maybe pack b, multiply), or None
        when matmul_variant's other paths apply (bool, empty, K = 0, a GPU, mismatches).
        sum_batch: one product, the sum over the batch (matmul_blocked's sum_batches).

        a and b may be any strided views: the pack kernels gather them into panels.
        """
        (ba, a0, a1), (bb, b0, b1) = a.shape, b.shape
        m, k = (a1, a0) if transpose_a else (a0, a1)
        k2, n = (b1, b0) if transpose_b else (b0, b1)
        defines = blocked_defines(self.runtime.limits, a.dtype.itemsize)
        if (defines is None or a.dtype is _BOOL or a.dtype is not b.dtype or k != k2 or k == 0
                or (ba != bb and 1 not in (ba, bb)) or not min(ba, bb) * m * n):
            return None
        if bias is not None and tuple(bias.shape) not in ((n,), (m, 1)):
            raise ShapeError(f"matmul: bias of shape {bias.shape} fits neither ({n},) nor "
                             f"({m}, 1) for a product of shape ({m}, {n})")
        batch = max(ba, bb)
        defines = dict(defines, WPT_M=blocked_rows(m, defines["WPT_M"]))
        wpt_m, vec = defines["WPT_M"], defines["VEC"]
        options = self.kernel_options("matmul.cl", a.dtype, "matmul",
                                      dict(defines, REAL=self.real_dtype(a.dtype)))
        self.require("matmul", a.dtype)

        def pack(x, rows, width, transposed):
            """Launch packing x's (rows x k) operand, x read through its own strides."""
            sb, s1, s2 = x.strides
            stride_r, stride_k = (s2, s1) if transposed else (s1, s2)
            panels = -(-rows // width)
            batch_src = np.int32(sb if x.shape[0] > 1 else 0)
            if "PACK_TILES" in defines and width == 16 and stride_k == 1:  # 16 x 16 tiles
                tiles = -(-k // 16)
                local = min(self.local_1d, 1 << (tiles - 1).bit_length())
                launch = self.runtime.prepare(
                    "matmul", "matmul.cl", "matmul_pack_tiles", options,
                    (-(-tiles // local) * local, panels, x.shape[0]), (local, 1, 1),
                    (np.int32(rows), np.int32(k), np.int32(stride_r), batch_src,
                     np.int32(x.offset), PER_CALL, PER_CALL))
                return launch, panels * width * k
            local = min(self.local_1d, 1 << (k - 1).bit_length())  # a short K wastes no items
            launch = self.runtime.prepare(
                "matmul", "matmul.cl", "matmul_pack", options, (k, panels, x.shape[0]),
                (local, 1, 1), (np.int32(rows), np.int32(k), np.int32(width),
                                np.int32(stride_r), np.int32(stride_k), batch_src,
                                np.int32(x.offset), PER_CALL, PER_CALL))
            return launch, panels * width * k

        pack_a, a_panel = pack(a, m, wpt_m, transpose_a)
        # b's rows already hold VEC contiguous columns; packing pays only when they are
        # read by many row blocks (and power-of-two row strides thrash the cache sets)
        b_packed = transpose_b or m > _IN_PLACE_B_MAX_M or not b.packed
        pack_b, b_panel = None, 0
        if b_packed:
            pack_b, b_panel = pack(b, n, vec, not transpose_b)
            batch_b = b_panel if bb > 1 else 0
        else:
            batch_b = k * n if bb > 1 else 0
        summed, launched = (batch, 1) if sum_batch else (1, batch)
        blocked = self.runtime.prepare(
            "matmul", "matmul.cl", "matmul_blocked", options,
            (-(-m // wpt_m), -(-n // vec), launched), (1, 1, 1),
            (np.int32(m), np.int32(n), np.int32(k), np.int32(a_panel if ba > 1 else 0),
             np.int32(batch_b), np.int32(b_packed), np.int32(summed), np.int32(bias_mode),
             PER_CALL, PER_CALL, PER_CALL, PER_CALL))
        size = a.dtype.itemsize
        plan = ((launched, m, n), a.dtype, launched * m * n * size, pack_a,
                ba * a_panel * size, pack_b, bb * b_panel * size, blocked)
        return self._remember(key, plan)

    def _matmul_operand(self, x, transpose):
        """x packed, reading a transposed packed view through the transpose flag (no copy)."""
        if x.packed:
            return x, transpose
        if x.ndim == 3 and not x.offset and x.strides[1:] == (1, x.shape[1]) and (
                x.shape[0] == 1 or x.strides[0] == x.shape[1] * x.shape[2]):
            t = CLArray((x.shape[0], x.shape[2], x.shape[1]), x.dtype, x.data)
            return t, not transpose
        return self.contiguous(x), transpose

    def matmul_config(self, dt) -> MatmulConfig:
        """Tile sizes of matmul_tiled for dt (a DType or anything dtypes.get takes) on this
        device (chosen once)."""
        dt = dtypes.get(dt)
        if dt not in self._matmul_configs:
            device = self.runtime.device
            for cfg in candidate_configs(self.runtime.limits, dt.itemsize):
                knl = self.kernel("matmul.cl", "matmul_tiled", dt, op="matmul",
                                  **cfg.defines())
                # a kernel's own limit (registers, local memory) may be below the device's
                fits = knl.get_work_group_info(cl.kernel_work_group_info.WORK_GROUP_SIZE,
                                               device) >= cfg.rts_m * cfg.rts_n
                if fits:
                    self._matmul_configs[dt] = cfg
                    break
            else:
                raise OpenCLError(f"matmul: no tile configuration fits {self.runtime.name}")
        return self._matmul_configs[dt]

    def matmul_variant(self, variant, a, b, transpose_a=False, transpose_b=False):
        """matmul with kernel variant 'naive', 'tiled', 'blocked' (CPU) or None (the best one)."""
        a, transpose_a = self._matmul_operand(a, transpose_a)
        b, transpose_b = self._matmul_operand(b, transpose_b)
        (ba, a0, a1), (bb, b0, b1) = a.shape, b.shape
        m, k = (a1, a0) if transpose_a else (a0, a1)
        k2, n = (b1, b0) if transpose_b else (b0, b1)
        if k != k2 or (ba != bb and 1 not in (ba, bb)) or a.dtype is not b.dtype:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} (transpose_a="
                             f"{transpose_a}, transpose_b={transpose_b}, dtypes {a.dtype.name}, "
                             f"{b.dtype.name}) do not multiply")
        batch = max(ba, bb) if min(ba, bb) else 0
        if a.dtype is _BOOL:  # NumPy's bool matmul is an or of ands: count in int32
            wide = self.matmul_variant(variant, self._to(a, _INT32), self._to(b, _INT32),
                                       transpose_a, transpose_b)
            return self.cast(wide, dtypes.bool_)
        out = self.empty((batch, m, n), a.dtype)
        if not out.size:
            return out
        if k == 0:
            return self.full(out.shape, 0, a.dtype)
        args = (np.int32(m), np.int32(n), np.int32(k),
                np.int32(m * k if ba > 1 else 0), np.int32(k * n if bb > 1 else 0),
                np.int32(bool(transpose_a)), np.int32(bool(transpose_b)),
                a.data, b.data, out.data)
        blocked = blocked_defines(self.runtime.limits, a.dtype.itemsize)
        if variant is None:  # on PoCL the blocked kernel beats the tiled one at every shape
            variant = "blocked" if blocked else "tiled"
        if variant == "naive":
            knl = self.kernel("matmul.cl", "matmul_naive", a.dtype, op="matmul")
            side = 8 if self.local_1d >= 64 else 1  # a device below 64 work-items per group
            self.launch("matmul", knl, (n, m, batch), (side, side, 1), *args)
            return out
        if variant == "blocked":
            if blocked is None:
                raise DTypeError(f"matmul: the blocked kernel needs a CPU device and a float "
                                 f"dtype, got {self.runtime.name} and {a.dtype.name}")
            return self._matmul_blocked(a, b, out, transpose_a, transpose_b, blocked)
        cfg = self.matmul_config(a.dtype)
        knl = self.kernel("matmul.cl", "matmul_tiled", a.dtype, op="matmul", **cfg.defines())
        self.launch("matmul", knl,
                    (-(-n // cfg.tile_n) * cfg.rts_n, -(-m // cfg.tile_m) * cfg.rts_m, batch),
                    (cfg.rts_n, cfg.rts_m, 1), *args)
        return out

    def _pack(self, x, rows, k, width, stride_r, stride_k, defines):
        """x (batch, ...) as panels of `width` rows of its (rows x k) view: see matmul_pack."""
        batch, panels = x.shape[0], -(-rows // width)
        out = self.empty((batch, panels * width * k), x.dtype)
        # built with matmul_blocked's defines: one program for both
        knl = self.kernel("matmul.cl", "matmul_pack", x.dtype, op="matmul", **defines)
        local = min(self.local_1d, 1 << (k - 1).bit_length())  # a short K wastes no items
        self.launch("matmul", knl, (k, panels, batch), (local, 1, 1), np.int32(rows),
                    np.int32(k), np.int32(width), np.int32(stride_r), np.int32(stride_k),
                    np.int32(rows * k), np.int32(0), x.data, out.data)
        return out

    def _matmul_blocked(self, a, b, out, transpose_a, transpose_b, defines):
        """matmul_blocked over a packed copy of a and a packed copy of b, or b in place."""
        m, n, k = out.shape[1], out.shape[2], a.shape[1] if transpose_a else a.shape[2]
        defines = dict(defines, WPT_M=blocked_rows(m, defines["WPT_M"]))
        wpt_m, vec = defines["WPT_M"], defines["VEC"]
        pa = self._pack(a, m, k, wpt_m, *((1, m) if transpose_a else (k, 1)), defines)
        # b's rows already hold VEC contiguous columns; packing pays only when they are
        # read by many row blocks (and power-of-two row strides thrash the cache sets)
        b_packed = transpose_b or m > _IN_PLACE_B_MAX_M
        if b_packed:
            pb = self._pack(b, n, k, vec, *((k, 1) if transpose_b else (1, n)), defines)
            batch_b = pb.shape[1] if pb.shape[0] > 1 else 0
        else:
            pb, batch_b = b, (k * n if b.shape[0] > 1 else 0)
        knl = self.kernel("matmul.cl", "matmul_blocked", a.dtype, op="matmul", **defines)
        self.launch("matmul", knl, (-(-m // wpt_m), -(-n // vec), out.shape[0]), (1, 1, 1),
                    np.int32(m), np.int32(n), np.int32(k),
                    np.int32(pa.shape[1] if pa.shape[0] > 1 else 0), np.int32(batch_b),
                    np.int32(b_packed), np.int32(1), np.int32(0), None, pa.data, pb.data,
                    out.data)
        return out
