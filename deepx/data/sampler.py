"""Index samplers, as in torch.utils.data: sequential, random and batching."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

import numpy as np

from ..rng import next_seed


def as_generator(generator) -> np.random.Generator | None:
    """Resolve None, an int seed or a numpy Generator to a numpy Generator (None stays None)."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")


def global_generator() -> np.random.Generator:
    """A fresh numpy Generator seeded from deepx's global seed, so deepx.manual_seed rules it."""
    return np.random.default_rng(next_seed())


class Sampler:
    """Base class of index samplers.

    A sampler is an iterable of dataset indices (or, for BatchSampler, of lists of indices).
    Subclasses implement `__iter__` and, when they know it, `__len__`.
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass  # torch keeps this argument only for backwards compatibility; so do we

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """Yield 0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Yield random indices: a permutation, or num_samples draws with/without replacement."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = as_generator(generator)
        if (not isinstance(self.num_samples, (int, np.integer)) or isinstance(num_samples, bool)
                or self.num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples!r}")

    @property
    def num_samples(self) -> int:
        """How many indices one pass yields (len(data_source) unless given)."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        # Without an own generator, each pass reseeds from the global state, like torch.
        rng = self.generator if self.generator is not None else global_generator()
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of `sampler` into lists of batch_size (the last may be short)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if (not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            # torch raises ValueError, not TypeError, for this one; so do we.
            raise ValueError(f"drop_last should be a boolean value, but got "  # noqa: TRY004
                             f"drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
