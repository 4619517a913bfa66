"""A stage's bookkeeping (tlr_torch/training.py): class weights, which epoch is best, and what an epoch records."""

import json
from types import SimpleNamespace

import torch

from parts import TinyNet, context
from tlr_torch.saver import Saver
from tlr_torch.training import Run, class_weights


def test_class_weights_are_inverse_frequencies_and_an_absent_class_gets_none(tmp_path):
    ctx = context(tmp_path)
    ctx.job.splits["train"] = [SimpleNamespace(label=i) for i in (0, 0, 0, 1)]
    w = class_weights(ctx)
    assert torch.allclose(w, torch.tensor([4 / 9, 4 / 3, 0.0]))


def test_the_best_epoch_is_better_on_the_metric_or_tied_and_better_on_the_tie_break(tmp_path):
    run = Run(context(tmp_path), TinyNet(), None, None)
    best = {"value": 0.8, "second": 0.5}
    assert run.beats({"val_accuracy": 0.9, "val_loss": 9.0}, best)
    assert not run.beats({"val_accuracy": 0.7, "val_loss": 0.1}, best)
    assert run.beats({"val_accuracy": 0.8, "val_loss": 0.4}, best), "a tie goes to the lower loss"
    assert not run.beats({"val_accuracy": 0.8, "val_loss": 0.6}, best)
    assert not run.beats({"val_accuracy": 0.8, "val_loss": 0.4}, {"value": 0.8}), "an old checkpoint has no second"
    by_loss = Run(context(tmp_path, metric="val_loss", mode="min"), TinyNet(), None, None)
    assert by_loss.beats({"val_loss": 0.3, "val_accuracy": 0.1}, {"value": 0.4, "second": 0.9})


def test_an_epoch_records_its_line_the_checkpoint_and_the_model_and_its_events(tmp_path, validate):
    ctx, net = context(tmp_path, stages=2), TinyNet()
    run = Run(ctx, net, Saver(ctx), None)
    m = {"loss": 1.0, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.6}
    run.record(0, 0, m, 0.01, 1.5, 0, None)
    run.record(0, 1, {**m, "val_accuracy": 0.4}, 0.01, 1.5, 1, None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().split("\n") if line]
    for r in rows:
        validate("metrics", r)
    assert [r["best"] for r in rows] == [True, False]
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    validate("checkpointState", state)
    assert state["epoch"] == 2 and state["best"]["epoch"] == 0 and state["sinceBest"] == 1
    assert [e["type"] for e in ctx.events.seen] == ["epoch", "checkpoint"] * 2
    for e in ctx.events.seen:
        validate("event", e)
    run.next_stage(0)
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert (state["stage"], state["epoch"], state["stageBest"]) == (1, 0, None)
