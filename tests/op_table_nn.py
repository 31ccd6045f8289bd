"""Op-table entries for deepx.nn.functional: convolution, pooling, activations, norms, losses."""
from __future__ import annotations

NN_OPS = []
