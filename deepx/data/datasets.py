"""Ready-made datasets: scikit-learn's 8x8 digits, MNIST and Fashion-MNIST from IDX files."""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .dataset import Dataset, TensorDataset

# IDX type codes (byte 2 of the magic number) and their big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def load_digits(as_tensors: bool = True):
    """scikit-learn's 1797 8x8 digits (bundled, no network): images (1797, 1, 8, 8), labels (1797,).

    Images are float32 scaled from 0..16 to [0, 1], labels int64 in 0..9. as_tensors=True
    returns a TensorDataset of two deepx Tensors; as_tensors=False returns (images, labels)
    as numpy arrays.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn") from None
    bunch = sklearn_load_digits()
    images = (bunch.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    if not as_tensors:
        return images, labels
    import deepx

    return TensorDataset(deepx.tensor(images), deepx.tensor(labels))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e})") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt gzip data ({e})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an IDX file (raw or gzip-compressed) into a native-endian array of its dims."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: {len(data)} bytes is too short for an IDX header")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{path}: bad magic number: expected bytes 0x00 0x00, got "
                           f"0x{data[0]:02x} 0x{data[1]:02x}; not an IDX file")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in _IDX_DTYPES)
        raise DatasetError(f"{path}: unknown IDX dtype code 0x{code:02x} (known: {known})")
    if ndim == 0:
        raise DatasetError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                           f"file has {len(data)}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise DatasetError(f"{path}: truncated: shape {dims} of {dtype.name} needs {expected} "
                           f"payload bytes, found {found}")
    if found > expected:
        raise DatasetError(f"{path}: {found - expected} trailing bytes after the {expected} "
                           f"payload bytes of shape {dims}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def default_root(name: str = "mnist") -> Path:
    """Where a dataset lives by default: $DEEPX_DATA/<name>, else ~/.cache/deepx/<name>."""
    base = os.environ.get("DEEPX_DATA")
    return (Path(base) if base else Path("~/.cache/deepx")).expanduser() / name


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class MNIST(Dataset):
    """The MNIST digits from the four standard IDX files in `root` (each raw or .gz).

    ds[i] is (image, label): image a float32 array (1, 28, 28) in [0, 1], label an int, after
    transform / target_transform. `data` is uint8 (N, 28, 28), `targets` int64 (N,).
    root defaults to default_root() ($DEEPX_DATA/mnist or ~/.cache/deepx/mnist).
    download=True fetches missing files into root from `mirrors` and checks their md5.
    """

    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources = (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    )
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine")

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 download: bool = False, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if root is None:
            root = default_root("fashion-mnist" if isinstance(self, FashionMNIST) else "mnist")
        self.root = Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        missing = [name for name in names if self._find(name) is None]
        if missing and download:
            for name in missing:
                self._download(name)
        elif missing:
            listed = ", ".join(missing)
            raise DatasetError(f"{type(self).__name__}: missing {listed} (raw or .gz) in "
                               f"{self.root}; pass download=True to fetch them")
        images_path, labels_path = self._find(names[0]), self._find(names[1])
        self.data = self._read_images(images_path)
        self.targets = self._read_labels(labels_path)
        if len(self.data) != len(self.targets):
            raise DatasetError(f"{type(self).__name__}: {len(self.data)} images in "
                               f"{images_path} but {len(self.targets)} labels in {labels_path}")

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, name: str) -> Path | None:
        """root/name or root/name.gz, whichever exists (raw first: no gunzip needed)."""
        for candidate in (self.root / name, self.root / f"{name}.gz"):
            if candidate.is_file():
                return candidate
        return None

    def _download(self, name: str) -> None:
        """Fetch name.gz from the first mirror that serves it with the right md5."""
        import urllib.request  # late: it costs ~12 ms and only downloads need it

        filename = f"{name}.gz"
        md5 = dict(self.resources)[filename]
        self.root.mkdir(parents=True, exist_ok=True)
        failures = []
        for mirror in self.mirrors:
            url = mirror + filename
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    payload = response.read()
            except OSError as e:  # URLError and socket timeouts are OSErrors
                failures.append(f"{url}: {e}")
                continue
            if _md5(payload) != md5:
                failures.append(f"{url}: md5 {_md5(payload)} != expected {md5}")
                continue
            # Write then rename, so an interrupted download never leaves a half file behind.
            partial = self.root / f"{filename}.part"
            partial.write_bytes(payload)
            os.replace(partial, self.root / filename)
            return
        raise DatasetError(f"{type(self).__name__}: could not download {filename} into "
                           f"{self.root}: " + "; ".join(failures))

    def _read_images(self, path: Path) -> np.ndarray:
        images = read_idx(path)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise DatasetError(f"{path}: expected uint8 images of shape (N, H, W), got "
                               f"{images.dtype} {images.shape}")
        return images

    def _read_labels(self, path: Path) -> np.ndarray:
        labels = read_idx(path)
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise DatasetError(f"{path}: expected uint8 labels of shape (N,), got "
                               f"{labels.dtype} {labels.shape}")
        if labels.size and labels.max() >= len(self.classes):
            raise DatasetError(f"{path}: label {labels.max()} is out of range "
                               f"0..{len(self.classes) - 1}")
        return labels.astype(np.int64)

    def __getitem__(self, index: int):
        image = self.data[index][None].astype(np.float32) / np.float32(255)
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {split}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the MNIST file layout and item format, clothing classes."""

    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
