"""The safetensors format (a little-endian u64 header length, a JSON header, raw tensor bytes),
read and written with numpy alone: no new dependency."""

import json
import struct

import numpy as np
import torch

from .errors import EngineError

_DTYPES = {
    "F32": np.float32,
    "F16": np.float16,
    "BF16": None,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
    "U8": np.uint8,
}


def read(path):
    """A dict of name -> float32 torch tensors; an EngineError names the file when it is damaged."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise EngineError(f"cannot read the weights file {path}: {e.strerror}") from e
    if len(data) < 8:
        raise EngineError(f"{path} is not a safetensors file (it has {len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise EngineError(
            f"{path} is truncated or not a safetensors file (its header says {n} bytes, the file has"
            f" {len(data) - 8} after it)"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except ValueError as e:
        raise EngineError(f"{path} has a damaged safetensors header ({e})") from e
    body = memoryview(data)[8 + n :]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (start, end) = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets", (0, 0))
        if dtype == "BF16":
            raw = np.frombuffer(body[start:end], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        elif dtype in _DTYPES:
            arr = np.frombuffer(body[start:end], dtype=_DTYPES[dtype])
        else:
            raise EngineError(f"{path}: tensor {name} has dtype {dtype}, which tlr does not read")
        count = int(np.prod(shape)) if shape else 1
        if arr.size != count or end > len(body):
            raise EngineError(
                f"{path}: tensor {name} should hold {count} values of {dtype} but its bytes do not match (the file is"
                " damaged)"
            )
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(shape).copy())
    return out


def dumps(tensors, metadata=None):
    """The safetensors bytes of name -> tensor (stored as F32, names sorted)."""
    header, chunks, at = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        arr = tensors[name].detach().to("cpu", torch.float32).contiguous().numpy()
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [at, at + len(b)]}
        chunks.append(b)
        at += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)
