"""deepx.data: samplers, datasets, DataLoader, collate, IDX parsing, MNIST and digits."""
import gzip
import hashlib
import io
import pathlib
import struct
import urllib.error
import urllib.request
from collections import namedtuple

import numpy as np
import pytest

import deepx
from deepx.data import (
    MNIST,
    BatchSampler,
    DataLoader,
    Dataset,
    FashionMNIST,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    load_digits,
    random_split,
    read_idx,
)
from deepx.data.datasets import default_root
from deepx.errors import DatasetError

# The real MNIST files: $DEEPX_DATA/mnist, else ~/.cache/deepx/mnist (the library's default).
MNIST_DIR = default_root("mnist")


class Squares(Dataset):
    """A plain map-style dataset: i -> (float32 array (3,), int label)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, index):
        if not 0 <= index < self.n:
            raise IndexError(index)
        return np.full(3, index * index, dtype=np.float32), index % 4

    def __len__(self):
        return self.n


def as_numpy(t):
    return np.asarray(t.numpy())


# ---------------------------------------------------------------- samplers

def test_sequential_sampler_order():
    sampler = SequentialSampler(range(7))
    assert list(sampler) == list(range(7))
    assert len(sampler) == 7


def test_random_sampler_is_permutation_and_reproducible():
    order = list(RandomSampler(range(50), generator=3))
    assert sorted(order) == list(range(50))
    assert order != list(range(50))
    assert list(RandomSampler(range(50), generator=3)) == order
    assert list(RandomSampler(range(50), generator=np.random.default_rng(3))) == order
    assert list(RandomSampler(range(50), generator=4)) != order


def test_random_sampler_epochs_differ_but_repeat_from_seed():
    sampler = RandomSampler(range(30), generator=0)
    first, second = list(sampler), list(sampler)
    assert first != second
    again = RandomSampler(range(30), generator=0)
    assert [list(again), list(again)] == [first, second]


def test_random_sampler_follows_global_seed():
    deepx.manual_seed(11)
    first = list(RandomSampler(range(40)))
    deepx.manual_seed(11)
    assert list(RandomSampler(range(40))) == first


def test_random_sampler_num_samples_without_replacement():
    order = list(RandomSampler(range(10), num_samples=25, generator=1))
    assert len(order) == 25
    # Whole permutations first, then part of one: each index at least twice, at most three.
    counts = np.bincount(order, minlength=10)
    assert counts.min() >= 2 and counts.max() <= 3
    assert sorted(order[:10]) == list(range(10))
    assert len(RandomSampler(range(10), num_samples=4)) == 4


def test_random_sampler_replacement():
    sampler = RandomSampler(range(5), replacement=True, num_samples=200, generator=2)
    order = list(sampler)
    assert len(order) == len(sampler) == 200
    assert set(order) == set(range(5))  # 200 draws of 5 values repeat some; all appear
    assert list(RandomSampler(range(5), replacement=True, num_samples=200, generator=2)) == order


def test_random_sampler_bad_arguments():
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(5), num_samples=0)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler([])
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(5), replacement=1)
    with pytest.raises(TypeError, match="generator"):
        RandomSampler(range(5), generator="seed")


@pytest.mark.parametrize("drop_last, expected", [
    (False, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]),
    (True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
])
def test_batch_sampler(drop_last, expected):
    sampler = BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=drop_last)
    assert list(sampler) == expected
    assert len(sampler) == len(expected)


def test_batch_sampler_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(4), batch_size=0, drop_last=False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(4), batch_size=2, drop_last=None)


# ---------------------------------------------------------------- datasets

def test_tensor_dataset_numpy_rows():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    row, label = ds[4]
    np.testing.assert_array_equal(row, [8, 9])
    assert label == 4


def test_tensor_dataset_tensor_rows():
    ds = TensorDataset(deepx.tensor(np.arange(6, dtype=np.float32).reshape(3, 2)))
    (row,) = ds[1]
    assert isinstance(row, deepx.Tensor)
    np.testing.assert_array_equal(as_numpy(row), [2, 3])


def test_tensor_dataset_length_mismatch():
    with pytest.raises(ValueError, match=r"Size mismatch.*\(5, 2\).*\(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_indexing():
    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3
    assert sub[0][1] == 7 % 4
    assert sub[2][0][0] == 25


def test_random_split_ints_disjoint_and_covering():
    parts = random_split(range(10), [3, 7], generator=0)
    assert [len(p) for p in parts] == [3, 7]
    items = [p[i] for p in parts for i in range(len(p))]
    assert sorted(items) == list(range(10))
    again = random_split(range(10), [3, 7], generator=0)
    assert [list(p.indices) for p in again] == [list(p.indices) for p in parts]


def test_random_split_fractions_like_torch():
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=1)
    # floor(5.5, 3.3, 2.2) = 5, 3, 2; the remainder 1 goes round-robin to the first split.
    assert [len(p) for p in parts] == [6, 3, 2]
    assert sorted(i for p in parts for i in p.indices) == list(range(11))


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


# ---------------------------------------------------------------- collate

def test_default_collate_arrays_and_numbers():
    batch = default_collate([(np.ones((2, 3), np.float32), 1, 0.5),
                             (np.zeros((2, 3), np.float32), 2, 1.5)])
    assert isinstance(batch, list) and len(batch) == 3  # tuples collate to lists, as in torch
    x, ints, floats = batch
    assert tuple(x.shape) == (2, 2, 3) and as_numpy(x).dtype == np.float32
    assert as_numpy(ints).dtype == np.int64
    np.testing.assert_array_equal(as_numpy(ints), [1, 2])
    assert as_numpy(floats).dtype == np.float32


def test_default_collate_dicts_namedtuples_strings():
    Pair = namedtuple("Pair", "a b")
    batch = default_collate([{"x": np.arange(2), "p": Pair(1, 2.0), "name": "u"},
                             {"x": np.arange(2) + 5, "p": Pair(3, 4.0), "name": "v"}])
    assert set(batch) == {"x", "p", "name"}
    np.testing.assert_array_equal(as_numpy(batch["x"]), [[0, 1], [5, 6]])
    assert isinstance(batch["p"], Pair)
    np.testing.assert_array_equal(as_numpy(batch["p"].a), [1, 3])
    assert batch["name"] == ["u", "v"]


def test_default_collate_tensors_and_uint8():
    batch = default_collate([deepx.tensor(np.ones(3, np.float32)),
                             deepx.tensor(np.zeros(3, np.float32))])
    assert tuple(batch.shape) == (2, 3)
    pixels = default_collate([np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)])
    assert as_numpy(pixels).dtype == np.int64 and as_numpy(pixels).max() == 255


def test_default_collate_errors():
    with pytest.raises(ValueError, match="equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


# ---------------------------------------------------------------- DataLoader

def test_loader_len_and_batches():
    loader = DataLoader(Squares(10), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    x, y = batches[-1]
    assert as_numpy(x).dtype == np.float32 and as_numpy(y).dtype == np.int64
    np.testing.assert_array_equal(as_numpy(x)[:, 0], [64, 81])
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    assert [tuple(x.shape) for x, _ in DataLoader(Squares(10), batch_size=4, drop_last=True)] \
        == [(4, 3), (4, 3)]


def test_loader_tensor_dataset_fast_path_matches_collate():
    x = np.random.default_rng(0).standard_normal((10, 2, 3)).astype(np.float32)
    y = np.arange(10)
    tensors = TensorDataset(deepx.tensor(x), deepx.tensor(y))
    arrays = TensorDataset(x, y)
    for ds in (tensors, arrays):
        batches = list(DataLoader(ds, batch_size=4, shuffle=True, seed=5))
        assert [tuple(b[0].shape) for b in batches] == [(4, 2, 3), (4, 2, 3), (2, 2, 3)]
        assert as_numpy(batches[0][0]).dtype == np.float32
        assert as_numpy(batches[0][1]).dtype == np.int64
        order = np.concatenate([as_numpy(b[1]) for b in batches])
        assert sorted(order) == list(range(10))
        np.testing.assert_array_equal(as_numpy(batches[0][0]), x[as_numpy(batches[0][1])])
        assert batches[0][0].device == deepx.tensor(x).device
    # The slow path (a custom collate_fn) sees the same samples in the same order.
    slow = list(DataLoader(arrays, batch_size=4, shuffle=True, seed=5,
                           collate_fn=lambda b: [s[1] for s in b]))
    assert np.concatenate(slow).tolist() == order.tolist()


def test_loader_subset_of_tensor_dataset():
    ds = TensorDataset(np.arange(20) * 10)
    train, _ = random_split(ds, [0.75, 0.25], generator=0)
    (values,) = next(iter(DataLoader(train, batch_size=15)))
    assert as_numpy(values).tolist() == [10 * i for i in train.indices]


def test_loader_shuffle_reproducible():
    def orders(**kwargs):
        loader = DataLoader(Squares(12), batch_size=5, shuffle=True, **kwargs)
        return [as_numpy(x)[:, 0].tolist() for x, _ in loader]

    assert orders(seed=7) == orders(seed=7)
    assert orders(generator=7) == orders(seed=7)
    assert orders(seed=7) != orders(seed=8)
    assert sorted(np.concatenate(orders(seed=7))) == [float(i * i) for i in range(12)]
    deepx.manual_seed(3)
    first = orders()
    deepx.manual_seed(3)
    assert orders() == first


def test_loader_custom_samplers_and_no_batching():
    loader = DataLoader(Squares(6), batch_sampler=[[5, 0], [2]],
                        collate_fn=lambda b: [s[1] for s in b])
    assert list(loader) == [[1, 0], [2]]
    assert len(loader) == 2
    loader = DataLoader(Squares(3), batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and tuple(items[2][0].shape) == (3,) and items[2][1] == 2
    loader = DataLoader(Squares(6), sampler=[4, 1], batch_size=2)
    ((_, y),) = list(loader)
    assert as_numpy(y).tolist() == [0, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_size": None, "drop_last": True}, "mutually exclusive with drop_last"),
    ({"seed": 1, "generator": 2}, "generator option is mutually exclusive with seed"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
])
def test_loader_mutual_exclusion(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(4), **kwargs)


# ---------------------------------------------------------------- load_digits

def test_load_digits():
    pytest.importorskip("sklearn")
    images, labels = load_digits(as_tensors=False)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(10))
    ds = load_digits()
    assert isinstance(ds, TensorDataset) and len(ds) == 1797
    x, y = next(iter(DataLoader(ds, batch_size=32)))
    assert tuple(x.shape) == (32, 1, 8, 8) and tuple(y.shape) == (32,)


# ---------------------------------------------------------------- IDX files and MNIST

def idx_bytes(array, code=0x08):
    """Serialise `array` as IDX with the given dtype code (big-endian payload)."""
    dtypes = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtypes[code]).tobytes()


def write_split(root, prefix, images, labels, gz=False):
    """Write {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte (optionally .gz)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images),
                        (f"{prefix}-labels-idx1-ubyte", labels)):
        payload = idx_bytes(array)
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (root / name).write_bytes(payload)


def tiny_split(n=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.mark.parametrize("code, dtype", [
    (0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
    (0x0D, np.float32), (0x0E, np.float64),
])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, code, dtype, gz):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    payload = idx_bytes(array, code)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(payload) if gz else payload)
    out = read_idx(path)
    assert out.dtype == dtype and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)


def bad_idx_cases():
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    return [
        ("truncated", good[:-1],
         r"truncated: shape \(2, 3\) of uint8 needs 6 payload bytes, found 5"),
        ("trailing", good + b"\0\0", r"2 trailing bytes"),
        ("magic", b"\x01" + good[1:], r"bad magic number.*0x01 0x00"),
        ("dtype", good[:2] + b"\x0a" + good[3:], r"unknown IDX dtype code 0x0a"),
        ("short", good[:3], r"too short for an IDX header"),
        ("header", good[:9], r"truncated header"),
        ("ndim0", bytes([0, 0, 8, 0]), r"0 dimensions"),
        ("corrupt-gzip", gzip.compress(good)[:-6], r"corrupt gzip"),
        ("bad-crc", gzip.compress(good)[:-8] + b"\0\0\0\0" + gzip.compress(good)[-4:],
         r"corrupt gzip"),
    ]


@pytest.mark.parametrize("name, payload, match", bad_idx_cases(), ids=lambda v: str(v)[:12])
def test_read_idx_rejects(tmp_path, name, payload, match):
    path = tmp_path / f"{name}.idx"
    path.write_bytes(payload)
    with pytest.raises(DatasetError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_gzipped_truncated_payload(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 4), np.uint8))[:-3]))
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(path)


def test_read_idx_missing(tmp_path):
    with pytest.raises(DatasetError, match="nothere.*not found"):
        read_idx(tmp_path / "nothere")


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_tiny_files(tmp_path, cls, gz):
    images, labels = tiny_split()
    write_split(tmp_path, "t10k", images, labels, gz=gz)
    ds = cls(tmp_path, train=False)
    assert len(ds) == 5
    assert ds.data.dtype == np.uint8 and ds.data.shape == (5, 28, 28)
    assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
    image, label = ds[3]
    assert image.dtype == np.float32 and image.shape == (1, 28, 28)
    np.testing.assert_allclose(image[0], images[3] / 255.0, rtol=1e-6)
    assert type(label) is int and label == labels[3]
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte, train-labels.*download=True"):
        cls(tmp_path, train=True)


def test_mnist_transforms_and_loader(tmp_path):
    images, labels = tiny_split(n=7)
    write_split(tmp_path, "train", images, labels)
    ds = MNIST(tmp_path, transform=lambda x: x * 2, target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert image.max() <= 2.0 and label == labels[0] + 100
    x, y = next(iter(DataLoader(MNIST(tmp_path), batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28) and as_numpy(x).dtype == np.float32
    assert as_numpy(y).tolist() == labels[:4].tolist()


def test_mnist_count_mismatch(tmp_path):
    images, labels = tiny_split(n=5)
    write_split(tmp_path, "t10k", images, labels[:4])
    with pytest.raises(DatasetError, match=r"5 images in .*t10k-images.* but 4 labels"):
        MNIST(tmp_path, train=False)


def test_mnist_wrong_file_kinds(tmp_path):
    images, labels = tiny_split(n=5)
    write_split(tmp_path, "t10k", images, labels)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(5, 12, np.uint8)))
    with pytest.raises(DatasetError, match="label 12 is out of range 0..9"):
        MNIST(tmp_path, train=False)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(labels))
    with pytest.raises(DatasetError, match=r"t10k-images.*expected uint8 images"):
        MNIST(tmp_path, train=False)


def test_mnist_corrupt_file_names_it(tmp_path):
    images, labels = tiny_split()
    write_split(tmp_path, "t10k", images, labels, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.gz: corrupt gzip"):
        MNIST(tmp_path, train=False)


def test_mnist_missing_one_file(tmp_path):
    images, labels = tiny_split()
    write_split(tmp_path, "t10k", images, labels)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match=r"missing t10k-labels-idx1-ubyte \(raw or \.gz\)"):
        MNIST(tmp_path, train=False)


class FakeResponse(io.BytesIO):
    """What urlopen returns, enough for a `with` block and .read()."""


def test_mnist_download_checks_md5(tmp_path, monkeypatch):
    """No network: urlopen is replaced and serves tiny files; md5s are set to match them."""
    images, labels = tiny_split()
    served = {"t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
              "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels))}
    urls = []

    def fake_urlopen(url, timeout=None):
        urls.append(url)
        if "bad-mirror" in url:
            raise urllib.error.URLError("unreachable")
        return FakeResponse(served[url.rsplit("/", 1)[1]])

    class TinyMNIST(MNIST):
        mirrors = ("https://bad-mirror.example/", "https://good.example/mnist/")
        resources = tuple((name, hashlib.md5(data).hexdigest()) for name, data in served.items())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = TinyMNIST(tmp_path / "new", train=False, download=True)
    assert len(ds) == 5
    assert (tmp_path / "new" / "t10k-labels-idx1-ubyte.gz").is_file()
    assert "https://good.example/mnist/t10k-images-idx3-ubyte.gz" in urls

    class WrongMD5(TinyMNIST):
        resources = tuple((name, "0" * 32) for name in served)

    with pytest.raises(DatasetError, match=r"could not download t10k-images.*md5.*"
                                           r"!= expected 0{32}"):
        WrongMD5(tmp_path / "other", train=False, download=True)
    assert not list((tmp_path / "other").iterdir())


def test_default_root_follows_deepx_data(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPX_DATA", str(tmp_path))
    assert default_root("mnist") == tmp_path / "mnist"
    write_split(tmp_path / "mnist", "t10k", *tiny_split())
    assert len(MNIST(train=False)) == 5  # root=None reads the default folder
    monkeypatch.delenv("DEEPX_DATA")
    assert default_root("mnist") == pathlib.Path("~/.cache/deepx/mnist").expanduser()


def test_mnist_real_test_set():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST test set not found in {MNIST_DIR}: set DEEPX_DATA to a folder "
                    "holding mnist/ (e.g. DEEPX_DATA=../shared/data)")
    expected = dict(MNIST.resources)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        digest = hashlib.md5((MNIST_DIR / name).read_bytes()).hexdigest()
        assert digest == expected[name], name
    ds = MNIST(MNIST_DIR, train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    image, label = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert label == 7  # the first MNIST test digit is a 7
    assert ds.targets.min() == 0 and ds.targets.max() == 9
    assert np.bincount(ds.targets).tolist() == [980, 1135, 1032, 1010, 982,
                                                892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------- torch.utils.data's path and args
def test_utils_data_is_torch_s_import_path_for_the_same_objects():
    import deepx.data
    import deepx.utils.data as tud

    for name in ("Dataset", "TensorDataset", "DataLoader", "Subset", "random_split",
                 "Sampler", "RandomSampler", "SequentialSampler", "BatchSampler",
                 "default_collate"):
        assert getattr(tud, name) is getattr(deepx.data, name), name
    import deepx

    assert deepx.utils.data.DataLoader is DataLoader


def test_loader_signature_follows_torch():
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(DataLoader).parameters
    theirs = inspect.signature(torch.utils.data.DataLoader).parameters
    assert [n for n in ours if n != "seed"] == list(theirs)
    for name in theirs:
        if name not in ("shuffle",):  # torch's None means False
            assert ours[name].default == theirs[name].default, name


class WorkerEcho(Dataset):
    """i -> (host row, a deepx Tensor on the NumPy device, worker id, the copy's tag)."""

    def __init__(self, n, fail_at=None):
        self.n = n
        self.fail_at = fail_at
        self.tag = -1

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        from deepx.utils.data import get_worker_info

        info = get_worker_info()
        return (np.array([i, i * i], dtype=np.float32), deepx.tensor([float(i)], device="numpy"),
                -1 if info is None else info.id, self.tag)


def tag_worker(worker_id):
    from deepx.utils.data import get_worker_info

    get_worker_info().dataset.tag = 100 + worker_id


def _epoch(loader):
    return [[as_numpy(field).tolist() for field in batch] for batch in loader]


def test_worker_processes_load_the_same_batches_in_order():
    def loader(workers, **kwargs):
        return DataLoader(WorkerEcho(11), 3, True, num_workers=workers, seed=4,
                          worker_init_fn=tag_worker, **kwargs)

    plain = _epoch(loader(0))
    seen = []
    for kwargs in ({}, {"prefetch_factor": 1, "pin_memory": True}):
        batches = _epoch(loader(2, **kwargs))
        # same indices in the same order; the deepx Tensor field came back as a Tensor
        assert [b[:2] for b in batches] == [b[:2] for b in plain]
        ids = [i for b in batches for i in b[2]]
        tags = [t for b in batches for t in b[3]]
        assert set(ids) <= {0, 1} and tags == [100 + i for i in ids]
        seen.extend(ids)
    assert all(i == -1 for b in plain for i in b[2] + b[3])  # no worker, no init_fn


def test_worker_collate_sees_tensors_and_errors_surface():
    got = []

    def collate(samples):
        got.append(type(samples[0][1]).__name__)
        return len(samples)

    sizes = list(DataLoader(WorkerEcho(5), batch_size=2, num_workers=1, collate_fn=collate))
    assert sizes == [2, 2, 1] and got == ["Tensor"] * 3
    one = list(DataLoader(WorkerEcho(2), batch_size=None, num_workers=1))  # no auto-batching
    assert as_numpy(one[1][0]).tolist() == [1.0, 1.0]
    with pytest.raises(KeyError, match="sample 3 is broken"):
        list(DataLoader(WorkerEcho(6, fail_at=3), batch_size=2, num_workers=2))
    with pytest.raises(ValueError, match="'fork' is not supported"):
        list(DataLoader(WorkerEcho(2), num_workers=1, multiprocessing_context="fork"))


def test_tensor_dataset_batches_in_process_even_with_workers():
    data = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    plain = _epoch(DataLoader(data, batch_size=3, shuffle=True, seed=4))
    calls = []
    workers = DataLoader(data, 3, True, num_workers=4, pin_memory=True, prefetch_factor=2,
                         persistent_workers=True, worker_init_fn=calls.append, seed=4)
    assert workers.num_workers == 4 and workers.pin_memory
    assert _epoch(workers) == plain
    assert calls == []  # the fast path starts no workers
