"""Tile sizes for matmul_tiled, chosen from a device's work-group and local-memory limits."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MatmulConfig:
    """Work-group RTS_N x RTS_M work-items, each computing WPT_M x WPT_N outputs; K-step TILE_K."""

    rts_m: int
    rts_n: int
    wpt_m: int
    wpt_n: int
    tile_k: int

    @property
    def tile_m(self) -> int:
        return self.rts_m * self.wpt_m

    @property
    def tile_n(self) -> int:
        return self.rts_n * self.wpt_n

    def local_bytes(self, itemsize: int) -> int:
        """Local memory used by the A and B tiles."""
        return self.tile_k * (self.tile_m + self.tile_n) * itemsize

    def defines(self) -> dict:
        """The -D options of matmul.cl."""
        return {"RTS_M": self.rts_m, "RTS_N": self.rts_n, "WPT_M": self.wpt_m,
                "WPT_N": self.wpt_n, "TILE_K": self.tile_k}


# Preferred first; the last one runs on any OpenCL device (one work-item per group).
LADDER = (
    MatmulConfig(rts_m=16, rts_n=16, wpt_m=4, wpt_n=4, tile_k=16),
    MatmulConfig(rts_m=8, rts_n=8, wpt_m=4, wpt_n=4, tile_k=16),
    MatmulConfig(rts_m=8, rts_n=8, wpt_m=2, wpt_n=2, tile_k=8),
    MatmulConfig(rts_m=4, rts_n=4, wpt_m=2, wpt_n=2, tile_k=8),
    MatmulConfig(rts_m=1, rts_n=1, wpt_m=1, wpt_n=1, tile_k=1),
)


def fits(cfg: MatmulConfig, device, itemsize: int) -> bool:
    """True when the device's limits allow cfg's work-group and local memory.

    device: anything with pyopencl.Device's limit attributes, e.g. Runtime.limits (a
    devices.Limits, which a test may cap to a small GPU's)."""
    sizes = device.max_work_item_sizes
    return (cfg.rts_m * cfg.rts_n <= device.max_work_group_size and cfg.rts_n <= sizes[0]
            and cfg.rts_m <= sizes[1] and cfg.local_bytes(itemsize) <= device.local_mem_size)


def candidate_configs(device, itemsize: int) -> list:
    """Configurations the device can run, preferred first (never empty)."""
    return [cfg for cfg in LADDER if fits(cfg, device, itemsize)] or [LADDER[-1]]


def blocked_defines(device, itemsize: int) -> dict | None:
    """-D options of matmul_blocked (a CPU kernel), or None where it does not apply.

    device: a pyopencl Device or devices.Limits (its type and preferred vector widths).

    VEC is the device's preferred vector width for the type; WPT_M rows fill the vector
    register file (32 registers with 64-byte vectors as on AVX-512, else 16) with room left.
    PACK_TILES (float with VEC 16) builds matmul_pack_tiles.
    """
    import pyopencl as cl

    if not device.type & cl.device_type.CPU or itemsize not in (4, 8):
        return None
    width = (device.preferred_vector_width_float if itemsize == 4
             else device.preferred_vector_width_double)
    vec = max(v for v in (4, 8, 16) if v <= max(width, 4))
    defines = {"WPT_M": 16 if vec * itemsize >= 64 else 12, "VEC": vec}
    if itemsize == 4 and vec == 16:  # matmul_pack_tiles: 16 x 16 float tiles (uint16 masks)
        defines["PACK_TILES"] = 1
    return defines


def blocked_rows(m: int, wpt_m: int) -> int:
    """WPT_M for a product with m rows: fewer rows per block when m is small (less padding)."""
    return next((rows for rows in (4, 8) if m <= rows < wpt_m), wpt_m)
