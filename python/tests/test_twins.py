"""The rules both engines implement, held together by one set of cases in test/fixtures/twins/ that this file and
test/runtime/twins.test.ts both read: the seeded shuffle, training batches, rank shares, the resizer, safetensors."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from tlr_torch import safetensors
from tlr_torch.batches import training_batches
from tlr_torch.dist import share
from tlr_torch.multilabel import best_thresholds, multilabel_evaluation
from tlr_torch.random import epoch_order, rng, shuffle
from tlr_torch.resize import fixed_taps, jpeg_scale, resize_image
from tlr_torch.targets import example_loss, hits, label_table, positive_weights

TWINS = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "twins")


def cases(name):
    with open(os.path.join(TWINS, name), encoding="utf-8") as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", cases("random.json"))
def test_rng_and_shuffle(case):
    if "first" in case:
        r = rng(case["seed"])
        assert [r() for _ in case["first"]] == case["first"]
    else:
        assert shuffle(list(range(case["n"])), rng(case["seed"])) == case["shuffled"]


@pytest.mark.parametrize("case", cases("sampler.json"))
def test_epoch_order(case):
    order = epoch_order(case["keep"], case["labels"], case["sampler"], rng(case["seed"]))
    assert order == case["order"]


@pytest.mark.parametrize("case", cases("multilabel.json"))
def test_multilabel_metrics(case):
    names = case["names"]
    assert best_thresholds(case["probs"], case["truth"], len(names)) == case["thresholds"]
    got = multilabel_evaluation(case["probs"], case["truth"], names, case["thresholds"])
    assert _close(got, case["evaluation"])


def _close(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-15)
    return a == b


@pytest.mark.parametrize("case", cases("targets.json"))
def test_multilabel_targets(case):
    class Ctx:
        probabilities = case["probabilities"]
        targets = label_table(case["sets"], case["labels"])

    pw = positive_weights(case["codes"], case["sets"], case["labels"])
    assert pw == pytest.approx(case["positiveWeights"], rel=1e-12)
    out, y = torch.tensor(case["out"], dtype=torch.float32), torch.tensor(case["codes"])
    assert float(example_loss(Ctx, out, y).mean()) == pytest.approx(case["loss"], rel=1e-5)
    weighted = example_loss(Ctx, out, y, torch.tensor(pw, dtype=torch.float32)).mean()
    assert float(weighted) == pytest.approx(case["weightedLoss"], rel=1e-5)
    assert hits(Ctx, out, y) == case["hits"]


@pytest.mark.parametrize("case", cases("batches.json"))
def test_training_batches(case):
    assert training_batches(list(range(case["n"])), case["batch"]) == case["batches"]


@pytest.mark.parametrize("case", cases("shares.json"))
def test_rank_shares(case):
    parts = [list(share(case["n"], case["size"], r)) for r in range(case["size"])]
    assert [p for p in parts if p[1] > p[0]] == case["shares"]


@pytest.mark.parametrize("case", [c for c in cases("resize.json") if "taps" in c])
def test_integer_taps(case):
    n, m = case["taps"]
    idx, w, offsets = fixed_taps(n, m)
    k = len(idx) // m
    pairs = [[[int(idx[i * k + j]), int(w[i * k + j])] for j in range(k) if int(w[i * k + j]) != 0] for i in range(m)]
    assert pairs == case["pairs"]


@pytest.mark.parametrize("case", [c for c in cases("resize.json") if "jpeg" in c])
def test_jpeg_scale(case):
    assert jpeg_scale(*case["jpeg"]) == case["k"]


@pytest.mark.parametrize("case", [c for c in cases("resize.json") if "image" in c])
def test_resized_bytes(case):
    (w, h), (ow, oh) = case["image"], case["to"]
    im = Image.fromarray(np.array(case["pixels"], dtype=np.uint8).reshape(h, w, 3), "RGB")
    out = resize_image(im, ow, oh)
    arr = out.numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    assert arr.reshape(-1).astype(int).tolist() == case["resized"]


@pytest.mark.parametrize("case", cases("safetensors.json"))
def test_safetensors_bytes(case, tmp_path):
    tensors = {
        k: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"]) for k, t in case["tensors"].items()
    }
    data = safetensors.dumps(tensors)
    assert data.hex() == case["hex"]
    f = tmp_path / "t.safetensors"
    f.write_bytes(data)
    back = safetensors.read(str(f))
    for k, t in tensors.items():
        assert torch.equal(back[k], t)
