"""The run folder's files as a run goes (tlr_torch/saver.py), and the checkpoint read back (checkpoints.py)."""

import json
import os

import pytest
import torch

from parts import TinyNet, context
from tlr_torch.checkpoints import read_checkpoint, trim_metrics
from tlr_torch.errors import EngineError
from tlr_torch.saver import Saver, fresh_state, state_copy, tie_break_of


@pytest.mark.parametrize(
    "metric, other, mode",
    [("val_accuracy", "val_loss", "min"), ("val_loss", "val_accuracy", "max"), ("accuracy", "loss", "min")],
)
def test_the_tie_break_is_the_other_metric_of_the_same_split(metric, other, mode):
    assert tie_break_of(metric) == {"metric": other, "mode": mode}


def test_a_checkpoint_reads_back_as_written_with_the_stage_best_kept_by_a_later_one(tmp_path):
    ctx, net = context(tmp_path), TinyNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.ones(2, 4)).sum().backward()
    opt.step()
    saver, weights = Saver(ctx), state_copy(net)
    state = {**fresh_state(), "epoch": 1, "best": {"value": 0.5, "second": 1.0, "stage": 0, "epoch": 0}}
    saver.checkpoint(state, weights, opt, weights)
    saver.checkpoint({**state, "epoch": 2}, weights, opt, "keep")
    found = read_checkpoint(ctx)
    assert found["state"]["epoch"] == 2 and found["state"]["best"]["value"] == 0.5
    for k, v in weights.items():
        assert torch.equal(found["weights"][k], v) and torch.equal(found["stageBest"][k], v)
    assert found["optimizer"]["state"], "the optimizer's momentum goes with the checkpoint"


def test_no_checkpoint_is_none_and_a_damaged_state_is_named(tmp_path):
    ctx = context(tmp_path)
    assert read_checkpoint(ctx) is None
    Saver(ctx).checkpoint(fresh_state(), state_copy(TinyNet()), None, None)
    with open(ctx.job.path("checkpoint", "state.json"), "w") as f:
        f.write('{"stage": ')
    with pytest.raises(EngineError, match=r"checkpoint/state\.json is damaged .*Start it again"):
        read_checkpoint(ctx)


def test_only_rank_0_writes(tmp_path):
    ctx = context(tmp_path, rank=1)
    s = Saver(ctx)
    s.checkpoint(fresh_state(), state_copy(TinyNet()), None, None)
    s.metrics({"stage": 1, "epoch": 1})
    assert os.listdir(tmp_path) == []


def test_metrics_lines_are_valid_and_the_folder_is_kept_from_the_first_epoch(tmp_path, validate):
    ctx = context(tmp_path)
    open(ctx.job.path(".tlr-run"), "w").close()
    row = {
        "stage": 1,
        "epoch": 1,
        "loss": 1.0,
        "accuracy": 0.5,
        "val_loss": 1.1,
        "val_accuracy": 0.4,
        "lr": 0.001,
        "seconds": 1.0,
        "best": True,
        "time": "2026-12-07T10:00:00Z",
    }
    Saver(ctx).metrics(row)
    assert not os.path.exists(ctx.job.path(".tlr-run"))
    with open(ctx.job.path("metrics.jsonl")) as f:
        validate("metrics", json.loads(f.readline()))


def test_the_model_folder_is_valid_against_its_schemas(tmp_path, validate):
    ctx = context(tmp_path)
    Saver(ctx).model(state_copy(TinyNet()), "model")
    d = tmp_path / "model"
    for name, kind in [
        ("network.json", "network"),
        ("labels.json", "labels"),
        ("preprocessing.json", "preprocessing"),
        (".tlr-model", "modelMarker"),
    ]:
        validate(kind, json.loads((d / name).read_text()))
    assert sorted(json.loads((d / ".tlr-model").read_text())["files"]) == sorted(
        f for f in os.listdir(d) if f != ".tlr-model"
    )


def test_trim_metrics_cuts_what_came_after_the_checkpoint_and_a_half_line(tmp_path):
    ctx = context(tmp_path)
    lines = [json.dumps({"stage": s, "epoch": e}) for s, e in [(1, 1), (1, 2), (2, 1), (2, 2)]]
    with open(ctx.job.path("metrics.jsonl"), "w") as f:
        f.write("\n".join(lines) + '\n{"stage": 2, "ep')
    trim_metrics(ctx, {"stage": 1, "epoch": 1})
    with open(ctx.job.path("metrics.jsonl")) as f:
        assert f.read().split("\n")[:-1] == lines[:3]
