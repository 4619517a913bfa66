"""The learning-rate schedules (the formulas of src/engines/tfjs/train/optimizer.ts) and the
parameter groups of `lr LOW..HIGH`."""

import math

import pytest
import torch
from torch import nn

from tlr_torch.stage import learning_rate, param_groups


def stage(kind="constant", epochs=4, lr=1e-2, **schedule):
    return {"epochs": epochs, "lr": {"initial": lr, "schedule": {"kind": kind, **schedule}}}


def test_constant():
    assert all(learning_rate(stage(), e, b, 5) == 1e-2 for e in range(4) for b in range(5))


def test_cosine_per_epoch():
    s = stage("cosine", epochs=4)
    for e in range(4):
        assert learning_rate(s, e, 3, 5) == pytest.approx(1e-2 * (1 + math.cos(math.pi * e / 4)) / 2)


def test_step_per_epoch():
    s = stage("step", epochs=6, every=2, factor=0.1)
    assert [learning_rate(s, e) for e in range(6)] == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4])


def test_warmup_ramps_linearly_per_batch_then_holds():
    s = stage("constant", warmup=1)  # one epoch of 4 batches
    assert [learning_rate(s, 0, b, 4) for b in range(4)] == pytest.approx([2.5e-3, 5e-3, 7.5e-3, 1e-2])
    assert learning_rate(s, 1, 0, 4) == 1e-2


def test_warmup_rounds_halves_up_as_javascript_does():
    # 0.5 * 5 batches = 2.5 warm-up batches: Math.round gives 3, Python's round would give 2.
    s = stage("constant", warmup=0.5)
    assert learning_rate(s, 0, 0, 5) == pytest.approx(1e-2 / 3)


def test_one_cycle_starts_low_peaks_after_a_quarter_and_ends_near_zero():
    s = stage("one-cycle", epochs=4)
    rates = [learning_rate(s, e, b, 10) for e in range(4) for b in range(10)]
    assert rates[0] == pytest.approx(1e-2 / 25)
    assert max(rates) == pytest.approx(1e-2) and rates.index(max(rates)) == 10
    assert rates[-1] == pytest.approx(1e-2 * 1e-4)
    assert all(a <= b for a, b in zip(rates[:10], rates[1:11])) and all(a >= b for a, b in zip(rates[10:], rates[11:]))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2))
        self.head = nn.Linear(2, 2)


def test_param_groups_give_each_block_its_rate_and_the_head_the_stage_rate():
    net = Net()
    layers = ["0", "1", "2"]
    s = {
        "epochs": 1,
        "lr": {
            "initial": 1e-2,
            "schedule": {"kind": "constant"},
            "blocks": [{"from": 0, "lr": 1e-4}, {"from": 2, "lr": 1e-3}],
        },
    }
    groups = param_groups(s, net, layers, list(net.parameters()))
    assert [g["scale"] for g in groups] == pytest.approx([1e-2, 1e-1, 1.0])
    ids = [{id(p) for p in g["params"]} for g in groups]
    assert ids[0] == {id(p) for m in net.backbone[:2] for p in m.parameters()}
    assert ids[1] == {id(p) for p in net.backbone[2].parameters()}
    assert ids[2] == {id(p) for p in net.head.parameters()}


def test_without_blocks_one_group():
    net = Net()
    params = list(net.parameters())
    assert param_groups(stage(), net, ["0", "1", "2"], params) == [{"params": params, "scale": 1.0}]


def test_groups_hold_every_parameter_once():
    net = Net()
    s = {"epochs": 1, "lr": {"initial": 1e-2, "schedule": {"kind": "constant"}, "blocks": [{"from": 1, "lr": 1e-3}]}}
    groups = param_groups(s, net, ["0", "1", "2"], list(net.parameters()))
    seen = [id(p) for g in groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in net.parameters())
    assert torch.is_tensor(groups[0]["params"][0])
