"""Map-style datasets, as in torch.utils.data: Dataset, TensorDataset, Subset, random_split."""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np

from .sampler import as_generator, global_generator


class Dataset:
    """Base class of map-style datasets.

    Subclasses implement `__getitem__(index)` returning one sample and `__len__`. Samplers and
    the DataLoader only ever ask for integer indices in range(len(dataset)).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _is_tensor(value) -> bool:
    """Whether `value` is a deepx Tensor (imported late: deepx imports this package)."""
    if isinstance(value, np.ndarray):
        return False
    import deepx

    return isinstance(value, deepx.Tensor)


class TensorDataset(Dataset):
    """Samples are rows of equally long tensors: ds[i] == (t[i] for t in tensors).

    Accepts deepx Tensors and numpy arrays (anything np.asarray takes). A host numpy copy of
    each is made once, here, so the DataLoader can build a batch with one fancy index and one
    host-to-device transfer per field; later in-place changes to the tensors are not seen.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tensors
        self.arrays = []
        self.devices = []
        self.dtypes = []
        for t in tensors:
            if _is_tensor(t):
                self.arrays.append(np.asarray(t.numpy()))
                self.devices.append(t.device)
                self.dtypes.append(t.dtype)
            else:
                self.arrays.append(np.asarray(t))
                self.devices.append(None)
                self.dtypes.append(None)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in self.arrays)
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs the same "
                             f"first dimension in every tensor, got shapes {shapes}")

    def __getitem__(self, index):
        # Tensors give Tensor rows (as torch); anything else gives numpy rows of its copy.
        return tuple(a[index] if dtype is None else t[index]
                     for t, a, dtype in zip(self.tensors, self.arrays, self.dtypes, strict=True))

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Split dataset into len(lengths) disjoint random Subsets; lengths: counts or fractions."""
    lengths = list(lengths)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(len(dataset) * frac))
        # Hand out the rounding remainder round-robin, as torch does.
        for i in range(len(dataset) - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.", stacklevel=2)
        lengths = counts
    if any(not isinstance(n, (int, np.integer)) or n < 0 for n in lengths):
        raise ValueError(f"lengths must be non-negative ints or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != len(dataset):
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({len(dataset)})!")
    rng = as_generator(generator)
    rng = rng if rng is not None else global_generator()
    indices = rng.permutation(len(dataset)).tolist()
    return [Subset(dataset, indices[end - n:end])
            for end, n in zip(itertools.accumulate(lengths), lengths, strict=True)]
