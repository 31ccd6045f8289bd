"""DataLoader and default_collate, as in torch.utils.data (single process)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from .dataset import Subset, TensorDataset, _is_tensor
from .sampler import BatchSampler, RandomSampler, SequentialSampler, as_generator
from .workers import iterate_in_workers


def tensor_from_numpy(array: np.ndarray, device=None):
    """One host-to-device transfer of a numeric array, in the nearest deepx dtype. (...) -> (...)"""
    import deepx

    kind = array.dtype.kind
    if kind == "b":
        name = "bool"
    elif kind in "iu":
        # deepx has int32 and int64 only; uint8 pixels and the like widen to int64.
        name = "int32" if array.dtype == np.int32 else "int64"
    elif kind == "f":
        name = "float64" if array.dtype == np.float64 else "float32"
    else:
        raise TypeError(f"default_collate: cannot make a tensor from numpy dtype {array.dtype}")
    return deepx.tensor(np.ascontiguousarray(array, dtype=name), dtype=name, device=device)


def _stack_tensors(batch: Sequence):
    """Stack B deepx Tensors on the host and make one tensor on the first one's device."""
    import deepx

    first = batch[0]
    arrays = [t.numpy() for t in batch]
    try:
        stacked = np.stack(arrays)
    except ValueError:
        shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
        raise ValueError(f"default_collate: stack expects each tensor to be equal size, "
                         f"got shapes {shapes}") from None
    return deepx.tensor(stacked, dtype=first.dtype, device=first.device)


def default_collate(batch: Sequence):
    """Merge a list of B samples into a batch: each leaf (...) becomes a Tensor (B, ...).

    Arrays, numpy scalars and Python numbers become Tensors (int -> int64, float -> float32,
    bool -> bool); deepx Tensors are stacked on their own device; dicts, named tuples and
    lists collate field by field; plain tuples become lists, as in torch; str/bytes stay lists.
    """
    elem = batch[0]
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SUO":
            return list(batch)  # strings and objects have no tensor form; torch keeps them too
        try:
            return tensor_from_numpy(np.stack(batch))
        except ValueError:
            shapes = ", ".join(str(np.shape(a)) for a in batch)
            raise ValueError(f"default_collate: stack expects each array to be equal size, "
                             f"got shapes {shapes}") from None
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "SUO":
            return list(batch)
        return tensor_from_numpy(np.asarray(batch))
    if isinstance(elem, bool):
        return tensor_from_numpy(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return tensor_from_numpy(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return tensor_from_numpy(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if _is_tensor(elem):
        return _stack_tensors(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch, strict=True)]
    raise TypeError(f"default_collate: batch must contain deepx Tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(data):
    """Turn numpy arrays inside one sample into Tensors (used when batch_size=None)."""
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "SUO":
        return tensor_from_numpy(np.asarray(data))
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, list):
        return [default_convert(value) for value in data]
    return data


def _tensor_source(dataset) -> tuple[TensorDataset, np.ndarray | None] | None:
    """(TensorDataset, index map) under any chain of Subsets, or None for other datasets."""
    index = None
    while isinstance(dataset, Subset):
        outer = np.asarray(dataset.indices, dtype=np.intp)
        index = outer if index is None else outer[index]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        return dataset, index
    return None


def _collate_rows(dataset: TensorDataset, indices: np.ndarray) -> list:
    """default_collate of dataset[i] for i in indices (B,), one host-to-device copy per field."""
    import deepx

    batch = []
    fields = zip(dataset.arrays, dataset.devices, dataset.dtypes, strict=True)
    for array, device, dtype in fields:
        rows = array[indices]
        if dtype is None:
            batch.append(tensor_from_numpy(rows))
        else:
            batch.append(deepx.tensor(rows, dtype=dtype, device=device))
    return batch  # a list: default_collate turns TensorDataset's tuples into lists


class DataLoader:
    """Iterate over a map-style dataset in batches, as torch.utils.data.DataLoader does.

    num_workers > 0 fetches samples in that many spawned processes (deepx/data/workers.py:
    never forked, samples cross as host arrays, collate_fn runs in the caller, batches come in
    sampler order, at most num_workers * prefetch_factor in flight; workers start afresh each
    epoch, persistent_workers is accepted). A TensorDataset (or Subset of one) with the default
    collate_fn is batched in the calling process even then: one fancy index and one
    host-to-device copy per field, which workers would only slow down. pin_memory is accepted
    and has no effect. `generator` (an int seed or a numpy Generator) or
    `seed` drives shuffling; without either, each epoch's order is drawn from deepx's global
    seed, so deepx.manual_seed makes runs repeat. With the default collate_fn, a
    TensorDataset (or a Subset of one) is batched by fancy-indexing its host arrays and making
    one tensor per field on the device of the original tensors.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if generator is not None and seed is not None:
            raise ValueError("generator option is mutually exclusive with seed")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        self.generator = as_generator(seed if generator is None else generator)
        if sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=self.generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order

    def __iter__(self) -> Iterator:
        source = _tensor_source(self.dataset) if self.collate_fn is default_collate else None
        if self.num_workers > 0 and source is None:
            tasks = self.sampler if self.batch_sampler is None else self.batch_sampler
            yield from iterate_in_workers(self, tasks, self.collate_fn)
            return
        if self.batch_sampler is None:  # auto-batching off: one converted sample per step
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            if source is None:
                yield self.collate_fn([self.dataset[i] for i in indices])
                continue
            dataset, index_map = source
            indices = np.asarray(indices, dtype=np.intp)
            yield _collate_rows(dataset, indices if index_map is None else index_map[indices])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
