"""safetensors written and read with numpy alone, and damaged files named."""

import struct

import pytest
import torch

from tlr_torch import safetensors
from tlr_torch.errors import EngineError


def test_round_trip_keeps_names_shapes_and_values(tmp_path):
    tensors = {"b/kernel": torch.arange(6, dtype=torch.float32).reshape(2, 3), "a/bias": torch.tensor([1.5, -2.0])}
    p = tmp_path / "w.safetensors"
    p.write_bytes(safetensors.dumps(tensors, {"tlr": "1"}))
    back = safetensors.read(str(p))
    assert sorted(back) == ["a/bias", "b/kernel"]
    for k, v in tensors.items():
        assert torch.equal(back[k], v)


def test_header_is_padded_to_eight_bytes():
    data = safetensors.dumps({"x": torch.zeros(3)})
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0


def test_float64_is_stored_as_float32():
    back_header = safetensors.dumps({"x": torch.zeros(2, dtype=torch.float64)})
    assert b'"F32"' in back_header


@pytest.mark.parametrize("cut, says", [(4, "is not a safetensors file"), (20, "truncated")])
def test_a_cut_file_is_named(tmp_path, cut, says):
    p = tmp_path / "cut.safetensors"
    p.write_bytes(safetensors.dumps({"x": torch.ones(100)})[:cut])
    with pytest.raises(EngineError, match=says) as e:
        safetensors.read(str(p))
    assert str(p) in str(e.value)


def test_a_damaged_header_is_named(tmp_path):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(struct.pack("<Q", 8) + b"{not json")
    with pytest.raises(EngineError, match="damaged safetensors header"):
        safetensors.read(str(p))
