"""Stand-ins for the run's context, for the unit tests of the parts of a run (saver, checkpoints, training, results,
features): a folder, one process, a plan with what those parts read, and events kept in a list."""

import os
from types import SimpleNamespace

import torch


class Events:
    def __init__(self):
        self.seen = []

    def emit(self, kind, **fields):
        self.seen.append({"type": kind, **fields})

    def warning(self, message, **fields):
        self.emit("warning", message=message, **fields)


def plan(metric="val_accuracy", mode="max", classes=("a", "b", "c"), stages=1):
    return {
        "seed": 1,
        "model": {
            "name": "resnet18",
            "width": None,
            "inputSize": 32,
            "preprocessing": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "description": "test"},
        },
        "head": {
            "inputs": 4,
            "layers": [{"kind": "dense", "units": len(classes), "activation": "linear"}],
            "params": 15,
        },
        "data": {"classes": list(classes), "augment": []},
        "stages": [{"epochs": 2, "batch": 4, "featureCache": {"use": True, "reason": "test"}}] * stages,
        "save": {"metric": metric, "mode": mode, "which": "best", "to": None},
    }


def context(tmp_path, rank=0, **plan_args):
    """A context for one process of rank `rank` (0 writes) on a run folder at tmp_path."""
    d = str(tmp_path)
    p = plan(**plan_args)
    job = SimpleNamespace(
        dir=d,
        plan=p,
        job={"tlr": "test", "network": {"name": "resnet18"}},
        path=lambda *parts: os.path.join(d, *parts),
        splits={"train": [], "validation": [], "test": []},
        layers=[],
        classes=p["data"]["classes"],
        label_sets=None,
    )
    world = SimpleNamespace(rank=rank, size=1, distributed=False, device=torch.device("cpu"))
    return SimpleNamespace(
        job=job, plan=p, world=world, events=Events(), probabilities=False, targets=None, thresholds=None
    )


class TinyNet(torch.nn.Module):
    """A network with the saved_state/load_saved pair the run's parts use."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)

    def saved_state(self):
        return self.state_dict()

    def load_saved(self, state, _where):
        self.load_state_dict(state)
