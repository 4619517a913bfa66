"""manifest.json rows: files, IDX images and tar shard members; a member is read by its byte range, and one cut short
names its shard and member."""

import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from tlr_torch import MANIFEST_FORMAT, MANIFEST_VERSION
from tlr_torch.data import decode, read_manifest
from tlr_torch.errors import EngineError


def png(rgb):
    buf = io.BytesIO()
    Image.fromarray(np.full((6, 5, 3), rgb, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def shard(path, members):
    """A tar written by Python's tarfile; returns each member's (offset, size), as tlr's index records them."""
    with tarfile.open(path, "w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    with tarfile.open(path) as t:
        return {m.name: (m.offset_data, m.size) for m in t.getmembers()}


def manifest(tmp_path, rows):
    m = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "root": str(tmp_path), "classes": ["a", "b"]}
    m["splits"] = {"train": rows, "validation": [], "test": []}
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    return str(tmp_path / "manifest.json")


def test_a_member_decodes_as_the_same_image_in_a_file(tmp_path):
    data = png((200, 40, 40))
    at = shard(tmp_path / "000000.tar", [("k1.png", data), ("k1.cls", b"1")])
    (tmp_path / "k1.png").write_bytes(data)
    offset, size = at["k1.png"]
    _, splits, _ = read_manifest(manifest(tmp_path, [["000000.tar", 1, offset, size, "k1.png"], ["k1.png", 1]]))
    member, file = splits["train"]
    assert member.describe().endswith("000000.tar[k1.png]")
    assert (decode(member, 8) == decode(file, 8)).all()


def test_a_member_cut_short_names_its_shard_and_member(tmp_path):
    at = shard(tmp_path / "000000.tar", [("k1.png", png((1, 2, 3)))])
    offset, size = at["k1.png"]
    _, splits, _ = read_manifest(manifest(tmp_path, [["000000.tar", 0, offset, size + 20000, "k1.png"]]))
    with pytest.raises(EngineError, match=r"000000\.tar: member k1\.png is cut short"):
        decode(splits["train"][0], 8)


def test_a_bad_member_row_is_named(tmp_path):
    with pytest.raises(EngineError, match=r"train item 0 is .*\[shard, class index, offset, size, member\]"):
        read_manifest(manifest(tmp_path, [["000000.tar", 0, -1, 5, "k1.png"]]))


def test_multi_label_rows_hold_label_set_codes_and_a_changed_manifest_is_refused(tmp_path):
    path = manifest(tmp_path, [["x.png", 2], ["y.png", 0]])
    m = json.loads(open(path).read())
    m["labelSets"] = [[0], [1], [0, 1]]
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    _, splits, sets = read_manifest(path)
    assert [it.label for it in splits["train"]] == [2, 0] and sets == [[0], [1], [0, 1]]
    for bad, rows in (([[0], [2]], [["x.png", 0]]), ("0;1", [["x.png", 0]]), ([[0]], [["x.png", 1]])):
        m["labelSets"], m["splits"]["train"] = bad, rows
        (tmp_path / "manifest.json").write_text(json.dumps(m))
        with pytest.raises(EngineError):
            read_manifest(path)
