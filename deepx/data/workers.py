"""DataLoader worker processes: samples are fetched in spawned processes, collated by the caller.

Workers start with the 'spawn' method (or 'forkserver' when asked), never 'fork': a forked
OpenCL context is unusable. Each worker holds its own pickled copy of the dataset, seeds deepx's
generator with base_seed + worker_id, calls worker_init_fn(worker_id), and answers "fetch these
indices" with the samples, every deepx Tensor in them turned into a host array, so a worker
never touches a device. The calling process turns those arrays back into Tensors of their
original dtype and device and runs collate_fn, which therefore sees what it would see with
num_workers=0. As with torch's spawn start method, the dataset, worker_init_fn and the script
that builds the loader must be importable (`if __name__ == "__main__":`).
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np


class WorkerInfo(NamedTuple):
    """What get_worker_info() returns inside a worker, as torch's WorkerInfo."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's id, the worker count, its seed and its dataset copy; None outside one."""
    return _worker_info


class _HostTensor(NamedTuple):
    """A deepx Tensor in transit from a worker: its data, dtype name and device string."""

    array: np.ndarray
    dtype: str
    device: str


def _to_host(obj):
    """obj with every deepx Tensor inside dicts, lists and tuples replaced by a _HostTensor."""
    import deepx

    if isinstance(obj, deepx.Tensor):
        return _HostTensor(obj.numpy(), obj.dtype.name, str(obj.device))
    if isinstance(obj, Mapping):
        return {key: _to_host(value) for key, value in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_host(value) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_host(value) for value in obj)
    return obj


def _from_host(obj):
    """The inverse of _to_host, in the calling process: _HostTensors become Tensors again."""
    import deepx

    if isinstance(obj, _HostTensor):
        return deepx.tensor(obj.array, dtype=obj.dtype, device=obj.device)
    if isinstance(obj, Mapping):
        return {key: _from_host(value) for key, value in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_from_host(value) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_host(value) for value in obj)
    return obj


def _init_worker(dataset, worker_init_fn, num_workers: int, base_seed: int, ids) -> None:
    import deepx

    global _worker_info
    worker_id = ids.get()
    deepx.manual_seed(base_seed + worker_id)
    _worker_info = WorkerInfo(worker_id, num_workers, base_seed + worker_id, dataset)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _fetch(task):
    """One batch (a list of indices) or one sample (an index), host-side."""
    dataset = _worker_info.dataset
    if isinstance(task, list):
        return _to_host([dataset[i] for i in task])
    return _to_host(dataset[task])


def _context(multiprocessing_context):
    """A spawn (default) or forkserver multiprocessing context; fork is refused."""
    if multiprocessing_context is None:
        return multiprocessing.get_context("spawn")
    if isinstance(multiprocessing_context, str):
        context = multiprocessing.get_context(multiprocessing_context)
    else:
        context = multiprocessing_context
    if context.get_start_method() == "fork":
        raise ValueError("DataLoader: multiprocessing_context 'fork' is not supported by deepx: "
                         "a forked OpenCL context is unusable; use 'spawn' or 'forkserver'")
    return context


def iterate_in_workers(loader, tasks: Iterable, collate) -> Iterator:
    """collate(samples) for each task, fetched by loader.num_workers processes, in task order.

    At most num_workers * prefetch_factor tasks are in flight; a worker's exception is raised
    here; a timeout > 0 bounds the wait for each batch, as in torch.
    """
    from ..rng import next_seed

    context = _context(loader.multiprocessing_context)
    n = loader.num_workers
    ids = context.Queue()
    for worker_id in range(n):
        ids.put(worker_id)
    base_seed = next_seed() % (1 << 62)
    pool = context.Pool(n, initializer=_init_worker,
                        initargs=(loader.dataset, loader.worker_init_fn, n, base_seed, ids))
    try:
        pending: deque = deque()
        tasks = iter(tasks)
        limit = n * (loader.prefetch_factor or 2)

        def submit() -> None:
            for task in tasks:
                # BatchSampler may yield ranges or arrays: send plain lists of ints
                task = [int(i) for i in task] if isinstance(task, Iterable) else task
                pending.append(pool.apply_async(_fetch, (task,)))
                return

        for _ in range(limit):
            submit()
        while pending:
            try:
                result = pending.popleft().get(loader.timeout if loader.timeout > 0 else None)
            except multiprocessing.TimeoutError:
                raise RuntimeError(f"DataLoader timed out after {loader.timeout} seconds") \
                    from None
            submit()
            yield collate(_from_host(result))
    finally:
        pool.terminate()
        pool.join()
