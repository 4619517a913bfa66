"""The run folder's files as a run goes: the best model, checkpoints, metrics.jsonl (rank 0 alone writes)."""
import contextlib
import json
import os

import torch

from . import ENGINE_VERSION, safetensors
from .files import append_line, replace_dir_atomic, write_json, write_marker
from .resize import RESIZER


def state_copy(net):
    return {k: v.detach().to("cpu", copy=True) for k, v in net.saved_state().items()}


def tie_break_of(metric):
    """The loss for an accuracy, the accuracy for a loss (plans before `tieBreak` leave it out)."""
    if metric == "val_map":  # mAP has no loss of its own name: the validation loss breaks its ties
        return {"metric": "val_loss", "mode": "min"}
    other = metric.replace("loss", "accuracy") if metric.endswith("loss") else metric.replace("accuracy", "loss")
    return {"metric": other, "mode": "min" if other.endswith("loss") else "max"}


def fresh_state():
    return {"stage": 0, "epoch": 0, "best": None, "stageBest": None, "sinceBest": 0}


class Saver:
    """The run folder's files; a no-op on ranks other than 0."""

    def __init__(self, ctx):
        self.ctx, self.on = ctx, ctx.world.rank == 0
        self.dir = ctx.job.dir

    def model(self, state, folder):
        if not self.on:
            return
        ctx = self.ctx
        plan = ctx.plan
        m = plan["model"]
        meta = {
            "format": "tlr-torch-model",
            "version": 1,
            "engine": "torch",
            "writtenBy": (
                f"tlr {ctx.job.job.get('tlr', '?')} (torch engine {ENGINE_VERSION}, PyTorch {torch.__version__})"
            ),
            "network": {"name": m["name"], "width": m["width"], "inputSize": m["inputSize"]},
            "head": plan["head"],
        }
        pre = self._preprocessing()

        def fill(tmp):
            with open(os.path.join(tmp, "model.safetensors"), "wb") as f:
                f.write(
                    safetensors.dumps(
                        state, {"format": "pt", "tlr": "torchvision names; head.N.* is the plan's head layer N"}
                    )
                )
            for name, value in (
                ("network.json", meta),
                ("labels.json", plan["data"]["classes"]),
                ("preprocessing.json", pre),
            ):
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                    f.write(json.dumps(value, indent=2) + "\n")
            write_marker(
                tmp,
                ".tlr-model",
                {
                    "format": "tlr-model",
                    "writtenBy": meta["writtenBy"],
                    "note": (
                        "tlr may replace this folder when a run saves a model here; it removes only the files "
                        "listed here"
                    ),
                },
            )

        replace_dir_atomic(os.path.join(self.dir, folder), fill, owned=".tlr-model")

    def _preprocessing(self):
        """preprocessing.json: how an image becomes the input, the output's kind, a multi-label model's thresholds."""
        ctx = self.ctx
        m = ctx.plan["model"]
        return {
            "inputSize": m["inputSize"],
            "mean": m["preprocessing"]["mean"],
            "std": m["preprocessing"]["std"],
            "description": m["preprocessing"]["description"],
            "resize": RESIZER,
            "network": {"name": m["name"], "width": m["width"]},
            "output": "probabilities" if ctx.probabilities else "logits",
            **({"task": "multi-label"} if ctx.targets is not None else {}),
            **({"thresholds": ctx.thresholds} if ctx.thresholds is not None else {}),
        }

    def thresholds(self):
        """The model folder's preprocessing.json again, with ctx.thresholds (chosen after training): the weights
        stay as written."""
        if self.on:
            write_json(os.path.join(self.dir, "model", "preprocessing.json"), self._preprocessing())

    def checkpoint(self, state, weights, optimizer, stage_best):
        """The whole checkpoint as one folder swapped in by a rename; `stage_best`: a state dict, 'keep' or None."""
        if not self.on:
            return
        path = os.path.join(self.dir, "checkpoint")
        old = os.path.join(path, "stage-best.safetensors")

        def fill(tmp):
            with open(os.path.join(tmp, "model.safetensors"), "wb") as f:
                f.write(safetensors.dumps(weights))
            if optimizer is not None:
                torch.save(optimizer.state_dict(), os.path.join(tmp, "optimizer.pt"))
            if isinstance(stage_best, dict):
                with open(os.path.join(tmp, "stage-best.safetensors"), "wb") as f:
                    f.write(safetensors.dumps(stage_best))
            elif stage_best == "keep" and os.path.exists(old):
                try:
                    os.link(old, os.path.join(tmp, "stage-best.safetensors"))
                except OSError:
                    import shutil

                    shutil.copyfile(old, os.path.join(tmp, "stage-best.safetensors"))
            with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:
                f.write(json.dumps(state, indent=2))

        replace_dir_atomic(path, fill)

    def metrics(self, line):
        if self.on:
            # From its first epoch on, the folder is kept whatever happens (tlr removes a run folder still marked
            # .tlr-run whose process died).
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.dir, ".tlr-run"))
            append_line(os.path.join(self.dir, "metrics.jsonl"), json.dumps(line))
