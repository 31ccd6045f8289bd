"""The global random state: a seed and a counter offset for the counter-based generator."""
from __future__ import annotations

import math

_state = {"seed": 0, "offset": 0}


def manual_seed(seed: int) -> None:
    """Seed every random draw (rand, randn, dropout, init, shuffling), like torch.manual_seed."""
    _state["seed"] = int(seed) & 0xFFFFFFFFFFFFFFFF
    _state["offset"] = 0


def initial_seed() -> int:
    """The seed last set by manual_seed (0 at start)."""
    return _state["seed"]


def next_offset(shape) -> tuple[int, int]:
    """Reserve counters for one draw of `shape`; returns (seed, first counter)."""
    n = math.prod(shape)
    offset = _state["offset"]
    _state["offset"] = offset + n
    return _state["seed"], offset


def next_seed() -> int:
    """A fresh 63-bit seed drawn from the global state, for host-side generators."""
    seed, offset = next_offset((2,))
    return (seed * 6364136223846793005 + offset * 1442695040888963407 + 1) % (1 << 63)
