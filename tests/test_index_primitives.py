"""The indexing and sorting primitives (take_along, scatter_along, argsort, nonzero): NumPy
against independent formulas, OpenCL against NumPy bit-exactly."""
from __future__ import annotations

import numpy as np
import pytest

from deepx.backend.numpy_backend import NumpyBackend

NB = NumpyBackend()


def test_numpy_take_along_matches_take_along_axis():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 13, 5))
    for axis in range(3):
        shape = (5, 4, 3)
        index = rng.integers(0, x.shape[axis], shape)
        # take_along_axis needs index to match x off-axis: compare on the index's window.
        window = tuple(slice(0, n) if d != axis else slice(None) for d, n in enumerate(shape))
        np.testing.assert_array_equal(NB.take_along(x, index, axis),
                                      np.take_along_axis(x[window], index, axis))


def test_numpy_scatter_along_last_write_wins_and_accumulates():
    x = np.zeros((2, 4))
    index = np.array([[1, 1, 3], [0, 0, 0]])
    src = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(NB.scatter_along(x, index, src, 1, False),
                                  [[0, 2, 0, 3], [6, 0, 0, 0]])
    np.testing.assert_array_equal(NB.scatter_along(x, index, src, 1, True),
                                  [[0, 3, 0, 3], [15, 0, 0, 0]])


def test_numpy_argsort_is_stable_with_nan_largest():
    x = np.array([3.0, 1.0, np.nan, 1.0, 3.0, 0.0, np.nan])
    np.testing.assert_array_equal(NB.argsort(x, 0, False), [5, 1, 3, 0, 4, 2, 6])
    np.testing.assert_array_equal(NB.argsort(x, 0, True), [2, 6, 0, 4, 1, 3, 5])


@pytest.fixture(scope="module")
def be(opencl_device):
    return opencl_device.backend


def _same(be, got, want):
    host = be.to_numpy(got)
    assert host.shape == want.shape and host.dtype == want.dtype, (host.shape, want.shape,
                                                                  host.dtype, want.dtype)
    np.testing.assert_array_equal(host, want)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_take_along_and_scatter_along_match_numpy(be, axis):
    rng = np.random.default_rng(10 + axis)
    x = rng.standard_normal((7, 13, 5))
    for shape in ((7, 13, 5), (3, 1, 5), (1, 13, 2), (2, 2, 2), (0, 3, 2)):
        shape = tuple(s if d != axis else s + 3 for d, s in enumerate(shape))
        index = rng.integers(0, x.shape[axis], shape).astype(np.int64)
        for dtype in (np.float32, np.int64, np.bool_):
            xd = (x * 3).astype(dtype)
            src = (rng.standard_normal(shape) * 3).astype(dtype)
            want = NB.take_along(xd, index, axis)
            _same(be, be.take_along(be.from_numpy(xd), be.from_numpy(index), axis), want)
            for accumulate in (False, True):
                want = NB.scatter_along(xd, index, src, axis, accumulate)
                got = be.scatter_along(be.from_numpy(xd), be.from_numpy(index),
                                       be.from_numpy(src), axis, accumulate)
                _same(be, got, want)  # same order of additions: bit-exact


@pytest.mark.parametrize("shape,ishape,axis", [((50, 4), (2000, 4), 0),
                                               ((3, 40, 2), (3, 300, 2), 1),
                                               ((7, 13), (7, 5), 1), ((9, 3), (1500, 1), 0)])
@pytest.mark.parametrize("sorted_path", [True, False])
def test_scatter_along_sorted_and_scan_paths_match_numpy(be, monkeypatch, shape, ishape, axis,
                                                         sorted_path):
    from deepx.backend.opencl import index_primitives

    monkeypatch.setattr(index_primitives, "_sorting_pays", lambda *a: sorted_path)
    rng = np.random.default_rng(26)
    index = rng.integers(0, shape[axis], ishape).astype(np.int64)  # many repeats
    for dtype in (np.float32, np.int64, np.bool_):
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        src = (rng.standard_normal(ishape) * 3).astype(dtype)
        for accumulate in (False, True):
            got = be.scatter_along(be.from_numpy(x), be.from_numpy(index), be.from_numpy(src),
                                   axis, accumulate)
            _same(be, got, NB.scatter_along(x, index, src, axis, accumulate))  # bit-exact


def test_scatter_along_picks_the_sorted_path_for_embedding_gradients():
    from deepx.backend.opencl.index_primitives import _sorting_pays

    assert _sorting_pays(10000 * 64, 2048 * 64, 2048)  # tokens into a large vocabulary
    assert _sorting_pays(65 * 64, 2048 * 64, 2048)     # ... or a small one
    assert not _sorting_pays(13 * 7, 3 * 7, 3)         # torch.gather-sized: scan
    assert not _sorting_pays(4 * 1000, 4 * 1000, 1000)  # as many candidates as outputs: scan


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_scatter_along_distinct_path_matches_numpy(be, axis):
    rng = np.random.default_rng(25 + axis)
    x = rng.standard_normal((7, 13, 5))
    for keep in (x.shape[axis], 2):  # a whole permutation, and top-2 of one
        index = np.take(np.argsort(rng.random(x.shape), axis), range(keep), axis=axis)
        for dtype in (np.float32, np.int64):
            xd = (x * 3).astype(dtype)
            src = (rng.standard_normal(index.shape) * 3).astype(dtype)
            for accumulate in (False, True):
                want = NB.scatter_along(xd, index, src, axis, accumulate)
                got = be.scatter_along(be.from_numpy(xd), be.from_numpy(index),
                                       be.from_numpy(src), axis, accumulate, distinct=True)
                _same(be, got, want)


@pytest.mark.parametrize("shape,axis", [((1000,), 0), ((13, 127), 1), ((127, 13), 0),
                                        ((3, 7, 5), 1), ((1,), 0), ((4, 1), 1), ((0, 5), 1)])
def test_argsort_matches_numpy(be, shape, axis):
    rng = np.random.default_rng(20)
    ties = rng.integers(0, 5, shape)  # many ties: the order among them must be stable
    floats = rng.standard_normal(shape).astype(np.float32)
    if floats.size:
        floats.reshape(-1)[::7] = np.nan
        floats.reshape(-1)[1::11] = -0.0
        floats.reshape(-1)[2::11] = 0.0
    for x in (ties.astype(np.int64), ties.astype(np.float32), floats, ties > 2,
              ties.astype(np.int32)):
        for descending in (False, True):
            _same(be, be.argsort(be.from_numpy(x), axis, descending),
                  NB.argsort(x, axis, descending))


@pytest.mark.parametrize("shape,axis", [((5000,), 0), ((3, 2000), 1), ((1500, 3), 0),
                                        ((2, 1025, 2), 1)])
def test_argsort_merge_path_matches_numpy(be, shape, axis):
    from deepx.backend.opencl import index_primitives

    assert shape[axis] > index_primitives.SORT_RANK_MAX_LENGTH  # the merge-sort kernel
    rng = np.random.default_rng(21)
    ties = rng.integers(0, 50, shape)
    floats = rng.standard_normal(shape).astype(np.float32)
    floats.reshape(-1)[::7] = np.nan
    for x in (ties.astype(np.int64), ties.astype(np.float32), floats, ties > 20):
        for descending in (False, True):
            _same(be, be.argsort(be.from_numpy(x), axis, descending),
                  NB.argsort(x, axis, descending))


def test_argsort_both_paths_agree_on_short_rows(be, monkeypatch):
    from deepx.backend.opencl import index_primitives

    rng = np.random.default_rng(22)
    x = be.from_numpy(rng.integers(0, 4, (3, 17, 2)).astype(np.float32))
    ranked = be.to_numpy(be.argsort(x, 1, True))
    monkeypatch.setattr(index_primitives, "SORT_RANK_MAX_LENGTH", 1)
    np.testing.assert_array_equal(be.to_numpy(be.argsort(x, 1, True)), ranked)
    np.testing.assert_array_equal(be.to_numpy(be.argsort(x, 1, False)),
                                  NB.argsort(be.to_numpy(x), 1, False))


@pytest.mark.parametrize("shape", [(), (1,), (1000,), (7, 13), (3, 1, 5, 2), (0, 4), (600,)])
def test_nonzero_matches_numpy(be, shape):
    rng = np.random.default_rng(30)
    for x in (rng.integers(0, 3, shape).astype(np.float32), rng.random(shape) < 0.01,
              np.zeros(shape, np.int64), np.full(shape, np.nan, np.float32)):
        x = np.asarray(x)
        _same(be, be.nonzero(be.from_numpy(x)), NB.nonzero(x))


def test_index_and_sort_kernels_write_only_their_outputs(be, monkeypatch):
    """The guard-region check of test_opencl_backend.py for select.cl and sort.cl."""
    from test_opencl_backend import guarded_outputs

    from deepx.backend.opencl import index_primitives

    rng = np.random.default_rng(40)
    with guarded_outputs(be, monkeypatch) as made:
        for shape in ((17, 13), (1, 1), (257,)):
            x = be.from_numpy(rng.standard_normal(shape).astype(np.float32))
            index = be.from_numpy(rng.integers(0, shape[-1], shape).astype(np.int64))
            out = be.take_along(x, index, len(shape) - 1)
            be.scatter_along(x, index, out, len(shape) - 1, True)
            be.scatter_along(x, index, out, len(shape) - 1, False)
            many = be.from_numpy(rng.integers(0, 3, (2000,) + shape[1:]))
            ones = be.from_numpy(np.ones((2000,) + shape[1:], np.float32))
            zeros = be.from_numpy(np.zeros((3,) + shape[1:], np.float32))
            for pays in (True, False):  # both the sorted and the scanning kernel
                monkeypatch.setattr(index_primitives, "_sorting_pays", lambda *a, p=pays: p)
                be.scatter_along(zeros, many, ones, 0, True)
            order = be.argsort(x, len(shape) - 1, False)
            be.scatter_along(x, order, x, len(shape) - 1, True, distinct=True)
            be.argsort(x, 0, True)
            be.argsort(be.from_numpy(rng.standard_normal((3, 1100)).astype(np.float32)), 1,
                       False)
            be.nonzero(be.from_numpy(rng.random(shape) < 0.5))
    assert len(made) > 15


def test_every_contract_primitive_has_both_implementations():
    """Each method of the Backend contract is overridden by NumpyBackend and OpenCLBackend."""
    from deepx.backend import Backend

    pytest.importorskip("pyopencl")
    from deepx.backend.opencl.backend import OpenCLBackend

    names = [n for n, v in vars(Backend).items() if callable(v) and not n.startswith("_")]
    assert {"take_along", "scatter_along", "argsort", "nonzero"} <= set(names)
    for cls in (NumpyBackend, OpenCLBackend):
        missing = [n for n in names if getattr(cls, n) is getattr(Backend, n)]
        assert not missing, f"{cls.__name__} lacks {missing}"
