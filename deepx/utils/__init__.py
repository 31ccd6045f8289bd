"""deepx.utils: torch.utils' import paths; `deepx.utils.data` is deepx.data under torch's name."""
from . import data

__all__ = ["data"]
