"""deepx.save / deepx.load: safetensors round trips, interop, atomic writes and a fuzzed reader."""
import json
import math
import os
import re
import time
import tracemalloc

import numpy as np
import pytest

from deepx import checkpoint
from deepx.checkpoint import load, load_arrays, save
from deepx.errors import CheckpointError

FUZZ_NAME = "fuzz.safetensors"


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equality: dtype, shape and every byte (NaN payloads, -0.0 included)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return np.array_equal(np.ascontiguousarray(a).reshape(-1).view(np.uint8),
                          np.ascontiguousarray(b).reshape(-1).view(np.uint8))


def _samples() -> dict:
    """All five deepx dtypes, awkward values, 0-d, size-0, strided and big-endian arrays."""
    special32 = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 3.4e38, -1.5],
                         dtype=np.float32)
    special64 = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7e308, np.pi])
    return {
        "f32": special32.reshape(2, 4),
        "f64": special64,
        "i32": np.array([np.iinfo(np.int32).min, -1, 0, 1, np.iinfo(np.int32).max], np.int32),
        "i64": np.array([[np.iinfo(np.int64).min], [np.iinfo(np.int64).max]], np.int64),
        "bool": np.array([[True, False, True]]),
        "scalar_f32": np.array(-0.0, np.float32),
        "scalar_i64": np.array(7, np.int64),
        "scalar_bool": np.array(False),
        "empty_f64": np.zeros((0,), np.float64),
        "empty_i32": np.zeros((3, 0, 2), np.int32),
        "strided": np.arange(12, dtype=np.float32).reshape(3, 4).T,
        "big_endian": np.arange(5, dtype=">f8") / 3,
        "layer.0.weight": np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
    }


def _header(blob: bytes) -> dict:
    """The parsed JSON header of a safetensors file's bytes."""
    length = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8:8 + length])


# ---------------------------------------------------------------------------------------------
# round trips


def test_flat_numpy_round_trip_is_bit_exact(tmp_path):
    path = tmp_path / "model.safetensors"
    arrays = _samples()
    save(arrays, path)
    loaded = load_arrays(path)
    assert list(loaded) == list(arrays)  # the dict's order, not sorted
    for name, array in arrays.items():
        assert _same(loaded[name], array.astype(array.dtype.newbyteorder("="))), name
        assert loaded[name].flags.writeable and loaded[name].flags.c_contiguous


def test_flat_file_layout_matches_safetensors(tmp_path):
    path = tmp_path / "model.safetensors"
    arrays = _samples()
    save(arrays, str(path))
    blob = path.read_bytes()
    length = int.from_bytes(blob[:8], "little")
    assert length % 8 == 0
    text = blob[8:8 + length].decode("utf-8")
    assert text == text.rstrip(" ") + " " * (len(text) - len(text.rstrip(" ")))
    header = json.loads(text)
    assert header.pop("__metadata__") == {"format": "pt"}
    assert list(header) == list(arrays)
    offset = 0
    for name in arrays:
        assert header[name]["data_offsets"] == [offset, offset + arrays[name].nbytes]
        assert header[name]["shape"] == list(arrays[name].shape)
        offset += arrays[name].nbytes
    assert len(blob) == 8 + length + offset


def test_a_state_dict_keeps_its_order(tmp_path):
    """torch.save keeps a state dict's order: '10.weight' after '9.bias', not after '1.bias'."""
    import deepx
    import deepx.nn as nn

    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(12)])
    state = model.state_dict()
    assert list(state) != sorted(state)
    deepx.save(state, tmp_path / "m.safetensors")
    loaded = deepx.load(tmp_path / "m.safetensors")
    assert list(loaded) == list(state)
    for value, param in zip(loaded.values(), model.parameters()):
        assert np.array_equal(value.numpy(), param.detach().numpy())


def test_flat_tensor_round_trip_is_bit_exact(tmp_path):
    import deepx

    path = tmp_path / "model.safetensors"
    arrays = _samples()
    tensors = {name: deepx.tensor(array) for name, array in arrays.items()}
    save(tensors, path)
    loaded = load(path)
    assert isinstance(loaded, dict) and set(loaded) == set(arrays)
    for name, array in arrays.items():
        assert isinstance(loaded[name], deepx.Tensor)
        assert _same(loaded[name].numpy(), array.astype(array.dtype.newbyteorder("="))), name


def _optimizer_state(make) -> dict:
    """An Adam-like state_dict whose tensor leaves come from make(array)."""
    return {
        "state": {
            0: {"step": 3, "exp_avg": make(np.array([0.5, -0.0, np.nan], np.float32)),
                "exp_avg_sq": make(np.array([[1.0, 2.0]], np.float64))},
            1: {"step": 3, "mask": make(np.array([True, False])), "count": make(np.array(2))},
            2: {},
        },
        "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": -0.0,
             "amsgrad": False, "foreach": None, "name": "dense", "params": [0, 1, 2],
             "big": 2**80, "odd": [float("inf"), float("-inf"), float("nan")]},
        ],
        "schedule": [],
        "nested": {"a": {"b": {"c": (1, "two", [3.5])}}},
    }


def _assert_same_tree(got, want) -> None:
    """Equal nested objects: same container types and keys, leaves bit-identical."""
    if isinstance(want, np.ndarray):
        got = got.numpy() if hasattr(got, "numpy") else got
        assert _same(got, want)
    elif isinstance(want, dict):
        assert type(got) is dict and list(got) == list(want)
        assert [type(key) for key in got] == [type(key) for key in want]
        for key in want:
            _assert_same_tree(got[key], want[key])
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_same_tree(g, w)
    elif isinstance(want, float):
        assert type(got) is float
        assert np.float64(got).tobytes() == np.float64(want).tobytes() or (
            math.isnan(got) and math.isnan(want))
    else:
        assert type(got) is type(want) and got == want


def test_nested_optimizer_state_round_trip(tmp_path):
    import deepx

    path = tmp_path / "optim.safetensors"
    want = _optimizer_state(np.asarray)
    save(_optimizer_state(deepx.tensor), path)
    got = load(path)
    assert isinstance(got["state"][0]["exp_avg"], deepx.Tensor)
    _assert_same_tree(got, want)
    assert sorted(load_arrays(path)) == ["state.0.exp_avg", "state.0.exp_avg_sq",
                                         "state.1.count", "state.1.mask"]


def test_nested_structure_is_documented_json(tmp_path):
    path = tmp_path / "n.safetensors"
    save({"state": {0: {"step": 3, "buf": np.ones(2)}}, "groups": [{"lr": 0.5}]}, path)
    metadata = _header(path.read_bytes())["__metadata__"]
    assert metadata["format"] == "pt"
    assert json.loads(metadata["deepx.structure"]) == {"dict": [
        ["state", {"dict": [[0, {"dict": [["step", {"value": 3}],
                                          ["buf", {"tensor": "state.0.buf"}]]}]]}],
        ["groups", {"list": [{"dict": [["lr", {"float": "0.5"}]]}]}],
    ]}


def test_numpy_scalars_are_saved_as_0d_tensors(tmp_path):
    path = tmp_path / "s.safetensors"
    save({"step": np.int64(5), "x": np.float32(0.25)}, path)
    loaded = load_arrays(path)
    assert _same(loaded["step"], np.array(5, np.int64))
    assert _same(loaded["x"], np.array(0.25, np.float32))


def test_empty_state_dict_round_trips(tmp_path):
    path = tmp_path / "empty.safetensors"
    save({}, path)
    assert load_arrays(path) == {}
    assert load(path) == {}
    save({"state": {}, "param_groups": []}, path)
    assert load(path) == {"state": {}, "param_groups": []}


def test_nesting_up_to_the_limit_round_trips(tmp_path):
    path = tmp_path / "deep.safetensors"
    deep = {"leaf": np.ones(1)}
    for i in range(checkpoint._MAX_DEPTH - 1):
        deep = {i: deep}
    save(deep, path)
    _assert_same_tree(load(path), deep)
    with pytest.raises(CheckpointError, match="deeper than"):
        save({"x": deep}, path)


def test_overwrite_replaces_contents(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"a": np.ones(3)}, path)
    save({"b": np.zeros(2, np.int32)}, path)
    assert list(load_arrays(path)) == ["b"]
    assert os.listdir(tmp_path) == ["m.safetensors"]


@pytest.mark.parametrize("obj, match", [
    ([np.ones(2)], "only save a dict"),
    ({"x": {1, 2}}, "cannot save set"),
    ({"x": object()}, "cannot save object"),
    ({"x": b"bytes"}, "cannot save bytes"),
    ({"x": np.ones(2, np.complex64)}, "complex64"),
    ({"x": np.array(["a"])}, "<U1"),
    ({"x": np.array([None])}, "object"),
    ({(1, 2): np.ones(1), "y": 1}, "only str and int keys"),
    ({1.5: 1}, "only str and int keys"),
    ({True: 1}, "only str and int keys"),
    ({"a.b": np.ones(1), "a": {"b": np.ones(1)}}, "both be stored as 'a.b'"),
    ({"__metadata__": np.ones(1)}, "reserved"),
    ({"x": "\ud800"}, "cannot encode"),
])
def test_save_rejects_what_it_cannot_store(tmp_path, obj, match):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(CheckpointError, match=re.escape(match)):
        save(obj, path)
    assert os.listdir(tmp_path) == []


def test_save_rejects_an_object_that_contains_itself(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(CheckpointError, match="contains itself"):
        save({"loop": loop}, tmp_path / "x.safetensors")


# ---------------------------------------------------------------------------------------------
# dtypes deepx lacks


def _bf16_file(values: np.ndarray) -> bytes:
    """A safetensors file with one BF16 tensor holding float32 `values` (exact in bf16)."""
    top = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2")
    raw = json.dumps({"h": {"dtype": "BF16", "shape": list(values.shape),
                            "data_offsets": [0, top.nbytes]}}).encode()
    return len(raw).to_bytes(8, "little") + raw + top.tobytes()


def test_small_dtypes_are_read_exactly_and_widened_by_load(tmp_path):
    import deepx

    path = tmp_path / "small.safetensors"
    arrays = {
        "f16": np.array([1.5, -0.0, np.inf, 65504.0], np.float16),
        "u8": np.array([0, 255], np.uint8),
        "i8": np.array([-128, 127], np.int8),
        "i16": np.array([-32768, 32767], np.int16),
        "u16": np.array([0, 65535], np.uint16),
        "u32": np.array([0, 2**32 - 1], np.uint32),
    }
    save(arrays, path)
    raw = load_arrays(path)
    for name, array in arrays.items():
        assert _same(raw[name], array), name
    loaded = load(path)
    assert loaded["f16"].dtype is deepx.float32
    assert loaded["u32"].dtype is deepx.int64
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name].numpy(), array)
    path.write_bytes(_bf16_file(np.array([1.0, -2.5, np.inf, -0.0], np.float32)))
    assert _same(load_arrays(path)["h"], np.array([1.0, -2.5, np.inf, -0.0], np.float32))
    assert _same(load(path)["h"].numpy(), np.array([1.0, -2.5, np.inf, -0.0], np.float32))


def test_uint64_loads_as_array_but_not_as_tensor(tmp_path):
    path = tmp_path / "u64.safetensors"
    save({"u": np.array([2**64 - 1], np.uint64)}, path)
    assert _same(load_arrays(path)["u"], np.array([2**64 - 1], np.uint64))
    with pytest.raises(CheckpointError, match="uint64.*load_arrays"):
        load(path)


# ---------------------------------------------------------------------------------------------
# atomic writes


class _Exploding:
    """A tensor-like leaf whose .numpy() fails, as a device copy might."""

    def numpy(self):
        raise RuntimeError("device lost")


def test_failing_numpy_leaves_existing_file_intact(tmp_path):
    path = tmp_path / "model.safetensors"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="device lost"):
        save({"a": np.ones(2), "z": _Exploding()}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_failure_mid_write_leaves_existing_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    real_write = checkpoint._write_tensor
    calls = []

    def write_then_fail(f, array):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_write(f, array)

    monkeypatch.setattr(checkpoint, "_write_tensor", write_then_fail)
    with pytest.raises(CheckpointError, match="No space left"):
        save({"a": np.ones(1000), "b": np.ones(1000), "c": np.ones(3)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_failing_fsync_leaves_existing_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(checkpoint.os, "fsync", broken_fsync)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        save({"w": np.zeros(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_interrupt_mid_write_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"

    def interrupted(f, array):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "_write_tensor", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.ones(2)}, path)
    assert os.listdir(tmp_path) == []


def test_save_into_missing_directory_names_the_file(tmp_path):
    path = tmp_path / "no" / "such" / "dir.safetensors"
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        save({"w": np.ones(1)}, path)


def test_saved_file_permissions_follow_umask(tmp_path):
    if os.name != "posix":
        pytest.skip("permission bits are POSIX")
    path = tmp_path / "m.safetensors"
    old = os.umask(0o022)
    try:
        save({"w": np.ones(1)}, path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------------------------------------
# interop with the safetensors package and PyTorch


def test_interop_with_safetensors_numpy(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy")
    arrays = {name: a.astype(a.dtype.newbyteorder("=")) for name, a in _samples().items()}
    arrays["f16"] = np.array([1.5, np.nan, -0.0], np.float16)
    arrays["u8"] = np.array([[0, 255]], np.uint8)
    ours = tmp_path / "ours.safetensors"
    save(arrays, ours)
    theirs_loaded = st_numpy.load_file(str(ours))
    assert set(theirs_loaded) == set(arrays)
    for name, array in arrays.items():
        assert _same(theirs_loaded[name], array), name

    theirs = tmp_path / "theirs.safetensors"
    st_numpy.save_file({k: np.array(v, order="C") for k, v in arrays.items()}, str(theirs),
                       metadata={"producer": "safetensors"})
    ours_loaded = load_arrays(theirs)
    for name, array in arrays.items():
        assert _same(ours_loaded[name], array), name
    tensors = load(theirs)
    assert _same(tensors["f64"].numpy(), arrays["f64"])

    nested = tmp_path / "nested.safetensors"
    save(_optimizer_state(np.asarray), nested)
    flat = st_numpy.load_file(str(nested))
    assert _same(flat["state.0.exp_avg_sq"], np.array([[1.0, 2.0]]))


def test_interop_with_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    arrays = {name: a.astype(a.dtype.newbyteorder("=")) for name, a in _samples().items()}
    ours = tmp_path / "ours.safetensors"
    save(arrays, ours)
    loaded = st_torch.load_file(str(ours))
    for name, array in arrays.items():
        assert _same(loaded[name].numpy(), array), name

    torch_state = {name: torch.from_numpy(np.array(a, order="C")) for name, a in arrays.items()}
    torch_state["half"] = torch.tensor([1.5, -0.0, float("inf")], dtype=torch.float16)
    torch_state["bf16"] = torch.tensor([[1.0, -2.5], [float("nan"), 3.0]], dtype=torch.bfloat16)
    torch_state["u8"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
    torch_state["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    torch_state["i16"] = torch.tensor([-32768, 5], dtype=torch.int16)
    theirs = tmp_path / "theirs.safetensors"
    st_torch.save_file(torch_state, str(theirs), metadata={"format": "pt"})
    raw = load_arrays(theirs)
    for name, array in arrays.items():
        assert _same(raw[name], array), name
    assert _same(raw["half"], torch_state["half"].numpy())
    assert _same(raw["bf16"], torch_state["bf16"].float().numpy())
    assert _same(raw["u8"], torch_state["u8"].numpy())
    tensors = load(theirs)
    assert _same(tensors["i32"].numpy(), arrays["i32"])
    assert _same(tensors["bf16"].numpy(), torch_state["bf16"].float().numpy())
    np.testing.assert_array_equal(tensors["i16"].numpy(), [-32768, 5])

    from_torch = tmp_path / "from_torch.safetensors"
    save({"w": torch.arange(6, dtype=torch.float64).reshape(2, 3)}, from_torch)
    assert _same(load_arrays(from_torch)["w"], np.arange(6.0).reshape(2, 3))


# ---------------------------------------------------------------------------------------------
# errors name the file


def test_missing_file_is_a_checkpoint_and_file_not_found_error(tmp_path):
    path = tmp_path / "absent.safetensors"
    with pytest.raises(CheckpointError, match=re.escape(str(path))) as info:
        load(path)
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        load_arrays(str(path))


def test_directory_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match=re.escape(str(tmp_path))):
        load_arrays(tmp_path)


@pytest.mark.parametrize("blob, match", [
    (b"", "too short"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ", "not valid JSON"),
    (b"\xff" * 8 + b"{}", "exceeds the limit"),
    (b"\x40\x00\x00\x00\x00\x00\x00\x00{}", "larger than"),
])
def test_bad_files_name_the_file(tmp_path, blob, match):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*" + match):
        load(path)


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "cut.safetensors"
    save({"w": np.ones((4, 4))}, path)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*truncated"):
        load(path)


# ---------------------------------------------------------------------------------------------
# hand-made corrupt files: each must be refused, with a message saying why


def _file(header, data: bytes = b"", length: int | None = None) -> bytes:
    """Bytes of a safetensors file: header (a JSON-able object or raw bytes), then data."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(raw) if length is None else length
    return n.to_bytes(8, "little") + raw + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)) -> dict:
    """One header entry; tuples become JSON lists."""
    return {"dtype": dtype, "shape": list(shape) if isinstance(shape, tuple) else shape,
            "data_offsets": list(offsets) if isinstance(offsets, tuple) else offsets}


def _structured(structure) -> bytes:
    """A file of one F32 tensor "w" whose deepx.structure metadata is `structure`."""
    text = structure if isinstance(structure, str) else json.dumps(structure)
    return _file({"__metadata__": {"deepx.structure": text}, "w": _entry()}, bytes(8))


def _nest(depth: int) -> dict:
    """A structure of `depth` nested lists around tensor w, under a top-level dict."""
    node = {"tensor": "w"}
    for _ in range(depth):
        node = {"list": [node]}
    return {"dict": [["x", node]]}


D8 = bytes(8)
BAD_FILES = [
    ("empty", b"", "too short"),
    ("7 bytes", bytes(7), "too short"),
    ("length 2**63", _file({}, length=2**63), "exceeds the limit"),
    ("length 2**64-1", _file({}, length=2**64 - 1), "exceeds the limit"),
    ("length over cap", _file({}, length=100_000_001), "exceeds the limit"),
    ("length past end", _file({}, length=3), "larger than"),
    ("length 0", _file(b""), "not valid JSON"),
    ("not utf-8", _file(b'{"w\xff": 1}'), "UTF-8"),
    ("utf-8 surrogate", _file(b'{"\xed\xa0\x80": 1}'), "UTF-8"),
    ("json list", _file([]), "not an object"),
    ("json string", _file("w"), "not an object"),
    ("json number", _file(3), "not an object"),
    ("json null", _file(None), "not an object"),
    ("not json", _file(b"{'w': 1}"), "not valid JSON"),
    ("unclosed", _file(b"{"), "not valid JSON"),
    ("json then junk", _file(b"{}x"), "not valid JSON"),
    ("NaN", _file(b'{"__metadata__": NaN}'), "not valid JSON"),
    ("Infinity", _file(b'{"w": {"dtype": "F32", "shape": [Infinity]}}'), "not valid JSON"),
    ("deep json", _file(b"[" * 100_000), "not valid JSON"),
    ("deep json objects", _file(b'{"a":' * 50_000), "not valid JSON"),
    ("huge int", _file(b'{"w": ' + b"9" * 5000 + b"}"), "not valid JSON"),
    ("duplicate tensor", _file(b'{"w": {}, "w": {}}'), "duplicate key 'w'"),
    ("duplicate field", _file(b'{"w": {"dtype": "F32", "dtype": "F32", "shape": [2], '
                              b'"data_offsets": [0, 8]}}', D8), "duplicate key 'dtype'"),
    ("entry is int", _file({"w": 3}), "exactly dtype, shape and data_offsets"),
    ("entry is list", _file({"w": ["F32", [2], [0, 8]]}, D8), "exactly dtype"),
    ("missing field", _file({"w": {"dtype": "F32", "shape": [2]}}, D8), "exactly dtype"),
    ("extra field", _file({"w": {**_entry(), "x": 1}}, D8), "exactly dtype"),
    ("unknown dtype", _file({"w": _entry(dtype="F33")}, D8), "unknown dtype 'F33'"),
    ("lowercase dtype", _file({"w": _entry(dtype="f32")}, D8), "unknown dtype"),
    ("int dtype", _file({"w": _entry(dtype=32)}, D8), "unknown dtype 32"),
    ("null dtype", _file({"w": _entry(dtype=None)}, D8), "unknown dtype"),
    ("list dtype", _file({"w": _entry(dtype=["F32"])}, D8), "unknown dtype"),
    ("fp8 dtype", _file({"w": _entry(dtype="F8_E4M3", offsets=(0, 2))}, bytes(2)),
     "no NumPy equivalent"),
    ("shape 2**40", _file({"w": _entry(shape=(2**40,))}, D8), "needs 4398046511104 bytes"),
    ("shape 2**62", _file({"w": _entry(shape=(2**62,))}, D8), "too large"),
    ("shape 2**64", _file({"w": _entry(shape=(2**64,))}, D8), "too large"),
    ("shape 2**31 x 2**31", _file({"w": _entry(shape=(2**31, 2**31))}, D8), "too large"),
    ("shape 0 x 2**62", _file({"w": _entry(shape=(0, 2**62), offsets=(0, 0))}), "too large"),
    ("shape 2**62 zero", _file({"w": _entry(shape=(2**62, 0, 2**62), offsets=(0, 0))}),
     "too large"),
    ("negative dim", _file({"w": _entry(shape=(-1,))}, D8), "non-negative integers"),
    ("negative product", _file({"w": _entry(shape=(-1, -2))}, D8), "non-negative integers"),
    ("float dim", _file({"w": _entry(shape=(2.0,))}, D8), "non-negative integers"),
    ("string dim", _file({"w": _entry(shape=("2",))}, D8), "non-negative integers"),
    ("nested dim", _file({"w": _entry(shape=[[2]])}, D8), "non-negative integers"),
    ("bool dim", _file({"w": _entry(shape=(True, 2))}, D8), "non-negative integers"),
    ("shape not list", _file({"w": _entry(shape=2)}, D8), "non-negative integers"),
    ("shape null", _file({"w": _entry(shape=None)}, D8), "non-negative integers"),
    ("shape object", _file({"w": _entry(shape={"0": 2})}, D8), "non-negative integers"),
    ("65 dims", _file({"w": _entry(shape=(1,) * 65, offsets=(0, 4))}, bytes(4)),
     "more than 64"),
    ("wrong size", _file({"w": _entry(shape=(3,))}, D8), "needs 12 bytes"),
    ("one offset", _file({"w": _entry(offsets=[0])}, D8), "two non-negative integers"),
    ("three offsets", _file({"w": _entry(offsets=[0, 8, 8])}, D8), "two non-negative"),
    ("reversed offsets", _file({"w": _entry(offsets=(8, 0))}, D8), "end before"),
    ("negative offset", _file({"w": _entry(offsets=(-1, 7))}, D8), "two non-negative"),
    ("float offsets", _file({"w": _entry(offsets=(0.0, 8.0))}, D8), "two non-negative"),
    ("bool offset", _file({"w": _entry(offsets=(False, 8))}, D8), "two non-negative"),
    ("string offsets", _file({"w": _entry(offsets=("0", "8"))}, D8), "two non-negative"),
    ("null offsets", _file({"w": _entry(offsets=None)}, D8), "two non-negative"),
    ("offset 2**64", _file({"w": _entry(offsets=(0, 2**64))}, D8), "run past the end"),
    ("end past buffer", _file({"w": _entry(shape=(2**28,), offsets=(0, 2**30))}, D8),
     "run past the end"),
    ("overlap", _file({"a": _entry(), "b": _entry(offsets=(4, 12))}, bytes(12)), "overlap"),
    ("same region", _file({"a": _entry(), "b": _entry()}, bytes(16)), "overlap"),
    ("gap", _file({"a": _entry(), "b": _entry(offsets=(12, 20))}, bytes(20)), "gap"),
    ("not from 0", _file({"w": _entry(offsets=(8, 16))}, bytes(16)), "expected 0"),
    ("trailing byte", _file({"w": _entry()}, bytes(9)), "trailing bytes"),
    ("truncated data", _file({"w": _entry()}, bytes(7)), "run past the end"),
    ("no tensors, data", _file({}, bytes(1)), "trailing bytes"),
    ("metadata list", _file({"__metadata__": []}), "__metadata__ must be"),
    ("metadata int value", _file({"__metadata__": {"a": 1}}), "__metadata__ must be"),
    ("metadata nested", _file({"__metadata__": {"a": {"b": "c"}}}), "__metadata__ must be"),
    ("metadata string", _file({"__metadata__": "pt"}), "__metadata__ must be"),
    ("structure not json", _structured("{"), "not valid JSON"),
    ("structure NaN", _structured('{"dict": [["x", {"float": NaN}]]}'), "not valid JSON"),
    ("structure list root", _structured({"list": [{"tensor": "w"}]}), "dict at the top"),
    ("structure array", _structured([]), "dict at the top"),
    ("structure null", _structured("null"), "dict at the top"),
    ("missing tensor", _structured({"dict": [["w", {"tensor": "v"}]]}), "missing tensor"),
    ("tensor twice", _structured({"dict": [["a", {"tensor": "w"}], ["b", {"tensor": "w"}]]}),
     "referred to twice"),
    ("tensor unused", _structured({"dict": []}), "are not in"),
    ("unknown kind", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"set": []}]]}),
     "bad node"),
    ("two kinds", _structured({"dict": [["w", {"tensor": "w", "value": 1}]]}), "bad node"),
    ("node not object", _structured({"dict": [["w", {"tensor": "w"}], ["x", 3]]}), "bad node"),
    ("bool key", _structured({"dict": [["w", {"tensor": "w"}], [True, {"value": 1}]]}),
     "bad dict item"),
    ("float key", _structured({"dict": [["w", {"tensor": "w"}], [1.5, {"value": 1}]]}),
     "bad dict item"),
    ("null key", _structured({"dict": [["w", {"tensor": "w"}], [None, {"value": 1}]]}),
     "bad dict item"),
    ("short pair", _structured({"dict": [["w", {"tensor": "w"}], ["x"]]}), "bad dict item"),
    ("long pair", _structured({"dict": [["w", {"tensor": "w"}, 3]]}), "bad dict item"),
    ("duplicate key", _structured({"dict": [["w", {"tensor": "w"}], ["w", {"value": 1}]]}),
     "duplicate dict key"),
    ("float value", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"value": 1.5}]]}),
     "bad value"),
    ("list value", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"value": [1]}]]}),
     "bad value"),
    ("bad float", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"float": "abc"}]]}),
     "bad float"),
    ("float not str", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"float": 3}]]}),
     "bad float"),
    ("list body", _structured({"dict": [["w", {"tensor": "w"}], ["x", {"list": {}}]]}),
     "bad node"),
    ("dict body", _structured({"dict": {"w": {"tensor": "w"}}}), "bad node"),
    ("too deep", _structured(_nest(checkpoint._MAX_DEPTH)), "deeper than"),
    ("deep structure json", _structured('{"dict": [["x", ' + "[" * 100_000 + "]]}"),
     "not valid JSON"),
]


def _attempt(blob: bytes):
    """Parse file bytes and rebuild the structure; None when refused with CheckpointError."""
    try:
        arrays, metadata = checkpoint._parse(blob, FUZZ_NAME)
        tree = checkpoint._unflatten(arrays, metadata, FUZZ_NAME)
    except CheckpointError:
        return None
    return arrays, tree


@pytest.mark.parametrize("blob, match", [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_corrupt_file_is_refused_with_a_reason(blob, match):
    with pytest.raises(CheckpointError, match=re.escape(match)) as info:
        arrays, metadata = checkpoint._parse(blob, FUZZ_NAME)
        checkpoint._unflatten(arrays, metadata, FUZZ_NAME)
    assert str(info.value).startswith(FUZZ_NAME + ": ")


def test_nesting_at_the_limit_is_accepted():
    blob = _structured(_nest(checkpoint._MAX_DEPTH - 1))  # the top dict is the 64th container
    arrays, metadata = checkpoint._parse(blob, FUZZ_NAME)
    checkpoint._unflatten(arrays, metadata, FUZZ_NAME)


def test_null_metadata_and_nonzero_bools_are_accepted():
    blob = _file({"__metadata__": None, "b": _entry("BOOL", (3,), (0, 3))}, bytes([0, 1, 200]))
    arrays, metadata = checkpoint._parse(blob, FUZZ_NAME)
    assert metadata == {}
    assert _same(arrays["b"], np.array([False, True, True]))


def test_file_reader_and_bytes_parser_agree(tmp_path):
    path = tmp_path / "case.safetensors"
    for _, blob, _ in BAD_FILES:
        path.write_bytes(blob)
        with pytest.raises(CheckpointError, match=re.escape(str(path))):
            load(path)


# ---------------------------------------------------------------------------------------------
# fuzzing the reader


def _fuzz_seed(tmp_path) -> tuple[bytes, dict]:
    """A small valid nested checkpoint (a few hundred bytes) and its arrays by name."""
    path = tmp_path / "seed.safetensors"
    save({"w": np.arange(6, dtype=np.float32).reshape(2, 3),
          "state": {0: {"step": 3, "buf": np.array([1, -2, 3, 2**40], np.int64)}},
          "mask": np.array([True, False, True]),
          "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]}, path)
    return path.read_bytes(), load_arrays(path)


def _check_consistent(result, blob: bytes) -> None:
    """A corrupt file that still loaded must describe arrays that fit the bytes it has."""
    arrays, tree = result
    assert isinstance(tree, dict)
    length = int.from_bytes(blob[:8], "little")
    stored = 0
    for array in arrays.values():
        assert isinstance(array, np.ndarray) and array.flags.c_contiguous
        assert array.dtype.isnative and array.flags.writeable
        stored += array.nbytes
    # Widened BF16 doubles in size; every other dtype keeps its stored width.
    assert stored <= 2 * (len(blob) - 8 - length)


def _mutate(rng: np.random.Generator, blob: bytes) -> bytes:
    """One random corruption: overwrite, insert, delete, duplicate or splice in a length."""
    data = bytearray(blob)
    kind = int(rng.integers(6))
    at = int(rng.integers(len(data)))
    if kind == 0:
        for _ in range(int(rng.integers(1, 5))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
    elif kind == 1:
        data[at:at] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
    elif kind == 2:
        del data[at:at + int(rng.integers(1, 17))]
    elif kind == 3:
        data[at:at] = data[at:at + int(rng.integers(1, 33))]
    elif kind == 4:
        data[:8] = int(rng.integers(0, 2**63)).to_bytes(8, "little")
    else:
        # A printable digit or JSON punctuation lands inside the header more often.
        data[8 + at % (len(data) - 8)] = b'0123456789[]{},:"-. '[int(rng.integers(20))]
    return bytes(data)


def test_fuzz_corrupted_files_raise_only_checkpoint_error(tmp_path):
    seed, originals = _fuzz_seed(tmp_path)
    rng = np.random.default_rng(20240607)
    header_end = 8 + int.from_bytes(seed[:8], "little")
    assert 300 <= len(seed) <= 1500
    cases = []
    cases += [("truncate", seed[:n]) for n in range(len(seed))]
    for bit in range(header_end * 8):
        flipped = bytearray(seed)
        flipped[bit // 8] ^= 1 << (bit % 8)
        cases.append(("header flip", bytes(flipped)))
    payload_bits = (len(seed) - header_end) * 8
    for bit in sorted(rng.choice(payload_bits, size=min(payload_bits, 400), replace=False)):
        flipped = bytearray(seed)
        flipped[header_end + bit // 8] ^= 1 << (bit % 8)
        cases.append(("payload flip", bytes(flipped)))
    cases += [("hand-made", blob) for _, blob, _ in BAD_FILES]
    cases += [("trailing", seed + bytes(n)) for n in range(1, 9)]
    while len(cases) < 11_000:
        cases.append(("random", _mutate(rng, seed)))

    counts = {"refused": 0, "loaded": 0}
    slowest = 0.0
    tracemalloc.start()
    start = time.perf_counter()
    try:
        for kind, blob in cases:
            begin = time.perf_counter()
            result = _attempt(blob)
            slowest = max(slowest, time.perf_counter() - begin)
            if kind in ("truncate", "hand-made", "trailing"):
                assert result is None, kind
            elif kind == "payload flip":
                assert result is not None
                assert {k: a.shape for k, a in result[0].items()} == {
                    k: a.shape for k, a in originals.items()}
            if result is not None:
                _check_consistent(result, blob)
            counts["refused" if result is None else "loaded"] += 1
        total = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(counts.values()) >= 10_000
    assert counts["refused"] > 5_000  # most corruptions must be caught, not shrugged off
    # Guards against work or memory that grows with what a header claims, not benchmarks:
    # a case takes ~0.1 ms, so these bounds leave a margin of 1000x.
    assert slowest < 1.0, slowest
    assert total < 15.0, total
    assert peak < 50 * 2**20, peak


def test_fuzz_through_real_files(tmp_path):
    seed, originals = _fuzz_seed(tmp_path)
    rng = np.random.default_rng(7)
    path = tmp_path / "fuzzed.safetensors"
    for i in range(300):
        blob = seed[:int(rng.integers(len(seed)))] if i % 3 == 0 else _mutate(rng, seed)
        path.write_bytes(blob)
        try:
            arrays = load_arrays(path)
        except CheckpointError as e:
            assert str(path) in str(e)
            continue
        assert i % 3 != 0, "a truncated file loaded"
        assert all(isinstance(a, np.ndarray) for a in arrays.values())
    path.write_bytes(seed)
    tree = load(path)
    assert tree["groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]
    assert _same(tree["state"][0]["buf"].numpy(), originals["state.0.buf"])


# ---------------------------------------------------------------- torch.load / torch.save habits
def test_load_map_location_places_every_tensor(tmp_path):
    import deepx

    path = tmp_path / "m.safetensors"
    save({"w": deepx.ones(2, 3), "opt": {"state": {0: {"step": 3}}, "param_groups": []}}, path)
    for where, name in (("cpu", "numpy"), (deepx.device("numpy"), "numpy")):
        got = load(path, map_location=where)
        assert got["w"].device == deepx.device(name)
        assert got["opt"]["state"][0]["step"] == 3
    got = load(path, "cpu", weights_only=True)  # positional, as torch.load(f, 'cpu')
    assert got["w"].device == deepx.device("numpy")
    with pytest.raises(TypeError, match="map_location must be a device.*function"):
        load(path, map_location=lambda storage, loc: storage)
    with pytest.raises(TypeError, match="map_location must be a device.*dict"):
        load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(TypeError, match="not both"):
        load(path, map_location="cpu", device="numpy")


def test_training_checkpoint_resumes_model_optimizer_and_scheduler(tmp_path):
    import deepx as dx
    from deepx import nn, optim

    def make():
        dx.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        opt = optim.Adagrad(model.parameters(), lr=0.1)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    x = dx.tensor(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    y = dx.tensor(np.arange(16) % 2)

    def train(model, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            sched.step()

    model, opt, sched = make()
    train(model, opt, sched, 3)
    path = tmp_path / "ckpt.pt"
    dx.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "loss": 0.25}, path)
    train(model, opt, sched, 3)
    ckpt = dx.load(path, map_location="cpu")
    model2, opt2, sched2 = make()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 3 and ckpt["loss"] == 0.25
    train(model2, opt2, sched2, 3)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.1 * 0.5 ** 3


def test_save_and_load_take_file_objects(tmp_path):
    """torch.save / torch.load take a file object as well as a path: io.BytesIO, an open file."""
    import io

    import deepx

    arrays = _samples()
    buf = io.BytesIO()
    save(arrays, buf)
    path = tmp_path / "same.safetensors"
    save(arrays, path)
    assert buf.getvalue() == path.read_bytes()  # the same bytes as a file on disk
    buf.seek(0)
    loaded = load_arrays(buf)
    assert list(loaded) == list(arrays)
    for name, array in arrays.items():
        assert _same(loaded[name], array.astype(array.dtype.newbyteorder("="))), name
    checkpoint = {"epoch": 3, "state": {"w": deepx.ones(2)}, "lr": [0.1]}
    with open(tmp_path / "ck.safetensors", "wb") as f:
        deepx.save(checkpoint, f)
    with open(tmp_path / "ck.safetensors", "rb") as f:
        back = deepx.load(f, map_location="cpu")
    assert back["epoch"] == 3 and back["lr"] == [0.1]
    assert back["state"]["w"].tolist() == [1.0, 1.0]
    with pytest.raises(CheckpointError, match="binary mode"):
        load(io.StringIO("text"))
    with pytest.raises(CheckpointError, match="too short"):
        load(io.BytesIO(b"abc"))
