"""What every step of a run shares (tlr_torch/context.py): its name for messages, and unreadable images counted."""

from types import SimpleNamespace

import pytest
import torch

from parts import Events, plan
from tlr_torch.context import Context
from tlr_torch.errors import EngineError


def make(train=200):
    world = SimpleNamespace(
        rank=0, size=1, distributed=False, backend="gloo", device=torch.device("cpu"), sum=lambda xs: list(xs)
    )
    p = plan()
    job = SimpleNamespace(
        plan=p,
        splits={"train": [None] * train, "validation": [None] * 10, "test": []},
        classes=p["data"]["classes"],
        label_sets=None,
    )
    return Context(job, world, Events(), amp=True, workers=0)


def test_one_process_on_the_cpu_says_so_and_amp_is_off_there():
    ctx = make()
    assert ctx.label == f"PyTorch {torch.__version__} (cpu, one process)"
    assert ctx.amp is False


def test_an_unreadable_image_is_counted_and_warned_about_once_and_past_one_percent_the_run_stops():
    ctx = make()
    ctx.loader.bad["x.png"] = "x.png: not an image"
    ctx.note_unreadable("train")
    ctx.note_unreadable("train")
    assert ctx.unreadable["train"] == 1
    assert [e["file"] for e in ctx.events.seen] == ["x.png"]
    ctx.check_unreadable()  # 1 of 200: under 1%
    for i in range(3):
        ctx.loader.bad[f"{i}.png"] = "bad"
    ctx.note_unreadable("train")
    with pytest.raises(EngineError, match=r"4 of the 200 train images cannot be read"):
        ctx.check_unreadable()
