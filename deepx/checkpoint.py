"""Checkpoints in the safetensors format, read and written in pure Python + NumPy, no pickle.

File layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON header (space-padded to a
multiple of 8), then the data buffer. The header maps each tensor name to
{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (offsets into the buffer,
little-endian C-order data) and may hold "__metadata__": {str: str}.

A flat dict of str -> tensor (a model state dict) is written as safetensors writes it, with
metadata {"format": "pt"} only, except that header and data keep the dict's order (safetensors
sorts names; torch.save keeps a state dict's order, so zip(sd.values(), model.parameters())
pairs the right tensors after a load; safetensors' own reader orders entries by offset).
Anything else (nested dicts, int keys, lists, tuples, Python scalars, None: an optimizer state
dict) is stored as follows: each tensor leaf goes under its key path joined with "." (keys
through str()), and __metadata__["deepx.structure"] holds a JSON tree of the whole object in
which every node is one of

    {"tensor": "<stored name>"}
    {"value": null | true | 3 | "text"}      None, bool, int, str
    {"float": "0.1"}                          repr(), so inf, nan and -0.0 survive
    {"list": [node, ...]}    {"tuple": [node, ...]}
    {"dict": [[key, node], ...]}              key a JSON string or integer: int keys stay int

so load() rebuilds the same object. Loading never runs code: the reader checks the whole header
(lengths, dtypes, shapes, offsets) before it allocates a single array.
"""
from __future__ import annotations

import json
import math
import os
import secrets
from typing import NamedTuple

import numpy as np

from .errors import CheckpointError

__all__ = ["CheckpointNotFoundError", "load", "load_arrays", "save"]

_MAX_HEADER = 100_000_000  # the limit safetensors' own loader uses
_MAX_NBYTES = np.iinfo(np.intp).max  # NumPy refuses arrays whose dims multiply past this
_MAX_NDIM = 64  # NumPy's own limit on dimensions
_MAX_DEPTH = 64  # nesting of containers in a saved object
_STRUCTURE_KEY = "deepx.structure"

# safetensors code -> little-endian NumPy dtype of the stored bytes.
_STORED = {
    "BOOL": np.dtype("u1"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
    "F64": np.dtype("<f8"),
}
# Codes safetensors knows that NumPy has no dtype for.
_UNSUPPORTED = ("F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64")

# NumPy dtype (native order) -> safetensors code, for saving.
_CODE_OF = {
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.uint8): "U8",
    np.dtype(np.int8): "I8",
    np.dtype(np.int16): "I16",
    np.dtype(np.uint16): "U16",
    np.dtype(np.float16): "F16",
    np.dtype(np.int32): "I32",
    np.dtype(np.uint32): "U32",
    np.dtype(np.float32): "F32",
    np.dtype(np.int64): "I64",
    np.dtype(np.uint64): "U64",
    np.dtype(np.float64): "F64",
}

# Dtypes deepx lacks, widened without loss to one it has when loading tensors.
_WIDEN = {
    np.dtype(np.float16): np.dtype(np.float32),
    np.dtype(np.uint8): np.dtype(np.int32),
    np.dtype(np.int8): np.dtype(np.int32),
    np.dtype(np.int16): np.dtype(np.int32),
    np.dtype(np.uint16): np.dtype(np.int32),
    np.dtype(np.uint32): np.dtype(np.int64),
}
_DEEPX_DTYPES = {np.dtype(t) for t in (np.bool_, np.int32, np.int64, np.float32, np.float64)}


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist."""


class _Entry(NamedTuple):
    name: str
    code: str
    shape: tuple
    begin: int
    end: int


# ---------------------------------------------------------------------------------------------
# save


def save(obj: dict, path) -> None:
    """Write {key: (*shape) tensor | nested dict/list/tuple | scalar} to path, atomically, or
    to a binary file object (anything with .write, such as io.BytesIO), as torch.save takes
    either; a file object gets the bytes in order, with no temp file or rename."""
    filename = _name_of(path)
    if not isinstance(obj, dict):
        raise CheckpointError(f"{filename}: can only save a dict (a state dict), "
                              f"not {type(obj).__name__}")
    arrays = {}
    metadata = {"format": "pt"}
    if all(isinstance(k, str) for k in obj) and all(_is_array(v) for v in obj.values()):
        for key, value in obj.items():
            _add_tensor(arrays, key, value, filename)
    else:
        structure = _encode(obj, [], arrays, filename, [])
        metadata[_STRUCTURE_KEY] = _dumps(structure, filename)
    names = list(arrays)  # the dict's order, read back by load (see the module docstring)
    header = {"__metadata__": metadata}
    offset = 0
    for name in names:
        array = arrays[name]
        header[name] = {"dtype": _CODE_OF[array.dtype.newbyteorder("=")],
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header_bytes = _dumps(header, filename).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # keeps the buffer 8-byte aligned
    try:
        if hasattr(path, "write"):
            _write_stream(path, header_bytes, [arrays[name] for name in names])
        else:
            _write_atomic(filename, header_bytes, [arrays[name] for name in names])
    except OSError as e:
        raise CheckpointError(f"{filename}: could not write checkpoint: {e}") from e


def _is_array(value) -> bool:
    """True for the leaves stored as tensors: arrays, NumPy scalars and anything with .numpy()."""
    if isinstance(value, (np.ndarray, np.generic)):
        return True
    return callable(getattr(value, "numpy", None))


def _add_tensor(arrays: dict, name: str, value, filename: str) -> None:
    """Convert one tensor leaf to a host array and file it under `name`."""
    if name == "__metadata__":
        raise CheckpointError(f"{filename}: the name '__metadata__' is reserved by safetensors")
    if name in arrays:
        raise CheckpointError(f"{filename}: two tensors would both be stored as {name!r}; "
                              f"rename a key so the '.'-joined paths differ")
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
    else:
        array = np.asarray(value.numpy())
    if array.dtype.newbyteorder("=") not in _CODE_OF:
        raise CheckpointError(f"{filename}: tensor {name!r} has dtype {array.dtype}, "
                              f"which safetensors cannot store")
    arrays[name] = array


def _encode(value, keys: list, arrays: dict, filename: str, stack: list):
    """Structure node of `value` (see the module docstring); tensor leaves go into `arrays`."""
    if _is_array(value):
        _add_tensor(arrays, ".".join(keys), value, filename)
        return {"tensor": ".".join(keys)}
    if value is None or isinstance(value, (bool, int, str)):
        return {"value": value}
    if isinstance(value, float):
        return {"float": repr(float(value))}
    if not isinstance(value, (dict, list, tuple)):
        raise CheckpointError(f"{filename}: cannot save {type(value).__name__} at key path "
                              f"{'.'.join(keys)!r}; leaves must be tensors, arrays, None, bool, "
                              f"int, float or str")
    if any(value is outer for outer in stack):
        raise CheckpointError(f"{filename}: the object contains itself at {'.'.join(keys)!r}")
    if len(stack) >= _MAX_DEPTH:
        raise CheckpointError(f"{filename}: nesting deeper than {_MAX_DEPTH} containers")
    stack.append(value)
    if isinstance(value, dict):
        for key in value:
            if type(key) not in (str, int):
                raise CheckpointError(f"{filename}: dict key {key!r} at {'.'.join(keys)!r} "
                                      f"is a {type(key).__name__}; only str and int keys")
        node = {"dict": [[key, _encode(item, keys + [str(key)], arrays, filename, stack)]
                         for key, item in value.items()]}
    else:
        items = [_encode(item, keys + [str(i)], arrays, filename, stack)
                 for i, item in enumerate(value)]
        node = {"list": items} if isinstance(value, list) else {"tuple": items}
    stack.pop()
    return node


def _dumps(obj, filename: str) -> str:
    """Compact JSON, as safetensors writes it, with encoding failures named."""
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")  # lone surrogates in keys would fail only later, at write time
    except (ValueError, UnicodeError) as e:
        raise CheckpointError(f"{filename}: cannot encode the header as JSON: {e}") from e
    return text


def _name_of(path) -> str:
    """The file name errors give: the path, or a file object's .name, or '<file object>'."""
    if hasattr(path, "write") or hasattr(path, "read"):
        name = getattr(path, "name", None)
        return os.fsdecode(name) if isinstance(name, (str, bytes)) else "<file object>"
    return os.fsdecode(os.fspath(path))


def _write_stream(f, header: bytes, arrays: list) -> None:
    """The file's bytes, in order, into an open binary file object."""
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for array in arrays:
        _write_tensor(f, array)


def _write_atomic(filename: str, header: bytes, arrays: list) -> None:
    """Write to a temp file beside `filename`, fsync, then rename over it: all or nothing."""
    directory = os.path.dirname(os.path.abspath(filename))
    temp = os.path.join(directory, f".{os.path.basename(filename)}.{secrets.token_hex(8)}.tmp")
    # os.open with mode 0o666 lets the umask decide permissions, as a plain open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as f:
            _write_stream(f, header, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, filename)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_tensor(f, array: np.ndarray) -> None:
    """Append one array's bytes, little-endian and C-order."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    f.write(little.reshape(-1).view(np.uint8))


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; best effort, since some systems cannot open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# load


def load(path, map_location=None, *, device=None, weights_only=None, mmap=None) -> dict:
    """Read a save() or safetensors file (a path, or a binary file object with .read, such as
    io.BytesIO, as torch.load takes either); leaves become (*shape) deepx Tensors on the
    device given as map_location (torch's name: a device string such as 'cpu' or 'opencl', or
    a Device) or device=, else the default device.

    weights_only and mmap are accepted for torch's signature: loading never unpickles or runs
    code, and reads the file into memory. A callable or dict map_location raises TypeError
    (a deepx file records no per-tensor device to remap).
    """
    import deepx  # deepx/__init__.py imports this module

    filename = _name_of(path)
    if map_location is not None:
        if device is not None:
            raise TypeError("load: give map_location or device, not both")
        if callable(map_location) or isinstance(map_location, dict):
            raise TypeError(f"load: map_location must be a device (such as 'cpu' or "
                            f"'opencl'), got {type(map_location).__name__}; a deepx "
                            "checkpoint records no device to remap")
        device = map_location
    if device is not None:
        device = deepx.device(device)
    arrays, metadata = _read_source(path, filename)
    tensors = {name: deepx.tensor(_as_deepx_dtype(array, name, filename), device=device)
               for name, array in arrays.items()}
    return _unflatten(tensors, metadata, filename)


def load_arrays(path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file (a path or a binary file object) as name -> (*shape)
    NumPy array (BF16 as float32)."""
    arrays, _ = _read_source(path, _name_of(path))
    return arrays


def _read_source(path, filename: str) -> tuple[dict, dict]:
    """_read for a path; for a file object, its remaining bytes with _parse's same checks."""
    if not hasattr(path, "read"):
        return _read(filename)
    data = path.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CheckpointError(f"{filename}: the file object must be opened in binary mode "
                              f"(read() gave {type(data).__name__})")
    return _parse(data, filename)


def _as_deepx_dtype(array: np.ndarray, name: str, filename: str) -> np.ndarray:
    """The array itself for deepx's five dtypes, widened without loss for the smaller ones."""
    if array.dtype in _DEEPX_DTYPES:
        return array
    if array.dtype in _WIDEN:
        return array.astype(_WIDEN[array.dtype])
    raise CheckpointError(f"{filename}: tensor {name!r} has dtype {array.dtype}, which no deepx "
                          f"dtype holds without loss; read it with deepx.checkpoint.load_arrays")


def _read(filename: str) -> tuple[dict, dict]:
    """Hardened reader: (name -> array in header order, metadata) of one file."""
    try:
        with open(filename, "rb") as f:
            return _read_open(f, filename)
    except FileNotFoundError as e:
        raise CheckpointNotFoundError(f"{filename}: no such checkpoint file") from e
    except OSError as e:
        raise CheckpointError(f"{filename}: cannot read checkpoint: {e}") from e


def _read_open(f, filename: str) -> tuple[dict, dict]:
    """_read on an open binary file: checks the whole header before reading any tensor."""
    size = os.fstat(f.fileno()).st_size
    length = _header_length(f.read(8), size, filename)
    header = f.read(length)
    if len(header) != length:
        raise CheckpointError(f"{filename}: file shrank while being read")
    entries, metadata = _parse_header(header, size - 8 - length, filename)
    arrays = {}
    # Entries are contiguous in file order, so one sequential pass reads them all.
    for entry in sorted(entries, key=_file_order):
        data = f.read(entry.end - entry.begin)
        if len(data) != entry.end - entry.begin:
            raise CheckpointError(f"{filename}: file shrank while being read")
        arrays[entry.name] = _decode(data, entry)
    return {entry.name: arrays[entry.name] for entry in entries}, metadata


def _parse(buf: bytes, filename: str) -> tuple[dict, dict]:
    """The same checks as _read on a whole file's bytes: (name -> array, metadata)."""
    view = memoryview(buf)
    length = _header_length(bytes(view[:8]), len(view), filename)
    entries, metadata = _parse_header(bytes(view[8:8 + length]), len(view) - 8 - length,
                                      filename)
    start = 8 + length
    arrays = {entry.name: _decode(view[start + entry.begin:start + entry.end], entry)
              for entry in entries}
    return arrays, metadata


def _file_order(entry: _Entry) -> tuple:
    """Sort key putting entries in the order their bytes lie in the buffer."""
    return (entry.begin, entry.end)


def _header_length(prefix: bytes, size: int, filename: str) -> int:
    """The u64 header length N, checked against the file size and safetensors' cap."""
    if len(prefix) < 8:
        raise CheckpointError(f"{filename}: file is {size} bytes, too short to hold the 8-byte "
                              f"header length (truncated or not a safetensors file)")
    length = int.from_bytes(prefix, "little")
    if length > _MAX_HEADER:
        raise CheckpointError(f"{filename}: header length {length} exceeds the limit of "
                              f"{_MAX_HEADER} bytes (corrupt or not a safetensors file)")
    if length > size - 8:
        raise CheckpointError(f"{filename}: header length {length} is larger than the "
                              f"{size - 8} bytes that follow it (truncated file)")
    return length


def _parse_header(header: bytes, buffer_len: int, filename: str) -> tuple[list, dict]:
    """Validate the JSON header against a data buffer of `buffer_len` bytes: (entries, meta)."""
    try:
        parsed = _loads(header.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{filename}: header is not valid UTF-8 ({e})") from e
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{filename}: header is not valid JSON ({e})") from e
    if not isinstance(parsed, dict):
        raise CheckpointError(f"{filename}: header is a JSON {type(parsed).__name__}, "
                              f"not an object")
    metadata = parsed.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{filename}: __metadata__ must be an object of strings, "
                              f"got {_short(metadata)}")
    entries = [_check_entry(name, info, buffer_len, filename) for name, info in parsed.items()]
    position = 0
    for entry in sorted(entries, key=_file_order):
        if entry.begin != position:
            raise CheckpointError(f"{filename}: tensor {entry.name!r} starts at byte "
                                  f"{entry.begin} of the data, expected {position} "
                                  f"(data_offsets overlap or leave a gap)")
        position = entry.end
    if position != buffer_len:
        raise CheckpointError(f"{filename}: the data is {buffer_len} bytes but the tensors "
                              f"cover {position} (truncated file or trailing bytes)")
    return entries, metadata


def _check_entry(name: str, info, buffer_len: int, filename: str) -> _Entry:
    """One header entry checked for types, dtype, shape and a size matching its offsets."""
    where = f"{filename}: tensor {_short(name)}"
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"{where}: entry must be an object with exactly dtype, shape and "
                              f"data_offsets, got {_short(info)}")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code in _UNSUPPORTED:
        raise CheckpointError(f"{where}: dtype {code} has no NumPy equivalent")
    if not isinstance(code, str) or code not in _STORED:
        raise CheckpointError(f"{where}: unknown dtype {_short(code)}")
    # type() rather than isinstance(): JSON true/false must not pass as 1/0.
    if type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape):
        raise CheckpointError(f"{where}: shape must be a list of non-negative integers, "
                              f"got {_short(shape)}")
    if len(shape) > _MAX_NDIM:
        raise CheckpointError(f"{where}: {len(shape)} dimensions, more than {_MAX_NDIM}")
    if (type(offsets) is not list or len(offsets) != 2
            or not all(type(o) is int and o >= 0 for o in offsets)):
        raise CheckpointError(f"{where}: data_offsets must be [begin, end], two non-negative "
                              f"integers, got {_short(offsets)}")
    begin, end = offsets
    if end < begin:
        raise CheckpointError(f"{where}: data_offsets [{begin}, {end}] end before they begin")
    if end > buffer_len:
        raise CheckpointError(f"{where}: data_offsets [{begin}, {end}] run past the end of the "
                              f"{buffer_len}-byte data buffer (truncated file)")
    itemsize = _STORED[code].itemsize
    product = itemsize
    for d in shape:
        product *= max(d, 1)  # NumPy needs the nonzero dims' product to fit even if one is 0
        if product > _MAX_NBYTES:
            raise CheckpointError(f"{where}: shape {_short(shape)} is too large")
    nbytes = math.prod(shape) * itemsize
    if nbytes != end - begin:
        raise CheckpointError(f"{where}: shape {shape} of {code} needs {nbytes} bytes but "
                              f"data_offsets [{begin}, {end}] hold {end - begin}")
    return _Entry(name, code, tuple(shape), begin, end)


def _decode(data, entry: _Entry) -> np.ndarray:
    """A native-order array owning a copy of one tensor's (already size-checked) bytes."""
    stored = np.frombuffer(data, dtype=_STORED[entry.code])
    if entry.code == "BOOL":
        array = stored != 0  # any nonzero byte is True; keeps numpy bools canonical 0/1
    elif entry.code == "BF16":
        array = (stored.astype(np.uint32) << 16).view(np.float32)  # bf16 is f32's top half
    else:
        array = stored.astype(stored.dtype.newbyteorder("="))
    return array.reshape(entry.shape)


def _unflatten(leaves: dict, metadata: dict, filename: str):
    """Rebuild the saved object from name -> leaf using __metadata__'s structure, if any."""
    text = metadata.get(_STRUCTURE_KEY)
    if text is None:
        return dict(leaves)
    try:
        root = _loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{filename}: {_STRUCTURE_KEY} is not valid JSON ({e})") from e
    if not isinstance(root, dict) or "dict" not in root:
        raise CheckpointError(f"{filename}: {_STRUCTURE_KEY} must describe a dict at the top")
    used = set()
    obj = _decode_node(root, leaves, used, 0, filename)
    if len(used) != len(leaves):
        missing = sorted(set(leaves) - used)[:5]
        raise CheckpointError(f"{filename}: tensors {missing} are not in {_STRUCTURE_KEY}")
    return obj


def _decode_node(node, leaves: dict, used: set, depth: int, filename: str):
    """The object one structure node describes (see the module docstring)."""
    where = f"{filename}: {_STRUCTURE_KEY}"
    if not isinstance(node, dict) or len(node) != 1:
        raise CheckpointError(f"{where}: bad node {_short(node)}")
    (kind, body), = node.items()
    if kind == "tensor":
        if not isinstance(body, str) or body not in leaves:
            raise CheckpointError(f"{where}: refers to missing tensor {_short(body)}")
        if body in used:
            raise CheckpointError(f"{where}: tensor {body!r} is referred to twice")
        used.add(body)
        return leaves[body]
    if kind == "value":
        if body is not None and type(body) not in (bool, int, str):
            raise CheckpointError(f"{where}: bad value {_short(body)}")
        return body
    if kind == "float":
        if isinstance(body, str):
            try:
                return float(body)
            except ValueError:
                pass
        raise CheckpointError(f"{where}: bad float {_short(body)}")
    if kind not in ("list", "tuple", "dict") or type(body) is not list:
        raise CheckpointError(f"{where}: bad node {_short(node)}")
    if depth >= _MAX_DEPTH:
        raise CheckpointError(f"{where}: nesting deeper than {_MAX_DEPTH} containers")
    if kind != "dict":
        items = [_decode_node(item, leaves, used, depth + 1, filename) for item in body]
        return items if kind == "list" else tuple(items)
    out = {}
    for pair in body:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
            raise CheckpointError(f"{where}: bad dict item {_short(pair)}")
        if pair[0] in out:
            raise CheckpointError(f"{where}: duplicate dict key {_short(pair[0])}")
        out[pair[0]] = _decode_node(pair[1], leaves, used, depth + 1, filename)
    return out


def _loads(text: str):
    """Strict JSON: duplicate keys and NaN/Infinity are errors, as in safetensors' parser."""
    return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def _reject_duplicates(pairs: list) -> dict:
    """object_pairs_hook for json.loads that refuses repeated keys."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {_short(key)}")
        out[key] = value
    return out


def _reject_constant(name: str):
    """parse_constant for json.loads: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _short(value) -> str:
    """repr() cut to a length fit for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
