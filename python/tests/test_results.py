"""What a run reports (tlr_torch/results.py): the most confident mistakes, and the recipe it came from."""

import json
from types import SimpleNamespace

import torch

from parts import context
from tlr_torch.results import misclassified, recipe_provenance


def item(path, index=None, member=None):
    return SimpleNamespace(path=path, index=index, member=member)


def test_the_most_confident_mistakes_come_first_with_where_each_image_is(tmp_path):
    ctx = context(tmp_path)
    items = [item("a.png"), item("t.idx", index=7), item("s.tar", member=(512, 100, "k.jpg")), item("d.png")]
    # rows: id, true class, predicted class, confidence, loss
    rows = torch.tensor([[0, 0, 1, 0.6, 1.0], [1, 2, 0, 0.9, 2.0], [2, 1, 1, 0.99, 0.1], [3, 1, 2, 0.7, 1.0]])
    out = misclassified(ctx, rows, items)
    assert [o["image"] for o in out] == [
        {"kind": "idx", "file": "t.idx", "index": 7},
        {"kind": "file", "path": "d.png"},
        {"kind": "file", "path": "a.png"},
    ]
    assert (out[0]["label"], out[0]["predicted"]) == ("c", "a")
    shard = misclassified(ctx, torch.tensor([[2, 0, 1, 0.5, 1.0]]), items)[0]["image"]
    assert shard == {"kind": "member", "shard": "s.tar", "name": "k.jpg", "offset": 512, "size": 100}


def test_the_recipe_comes_from_engine_json_and_a_damaged_one_is_none(tmp_path):
    ctx = context(tmp_path)
    assert recipe_provenance(ctx) is None
    recipe = {"digest": "ab" * 32, "path": "/r.tlr", "git": None}
    (tmp_path / "engine.json").write_text(json.dumps({"engine": "torch", "settings": {}, "recipe": recipe}))
    assert recipe_provenance(ctx) == recipe
    (tmp_path / "engine.json").write_text("{")
    assert recipe_provenance(ctx) is None
