"""Where a resumed run goes on from: the checkpoint every rank agrees on, and metrics.jsonl cut back to it."""
import json
import os

import torch
import torch.distributed as dist

from . import safetensors
from .errors import EngineError
from .files import recover_dir, write_atomic


def broadcast(world, obj):
    """Rank 0's object on every rank (the checkpoint lives on rank 0's machine)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def read_checkpoint(ctx):
    """Rank 0 reads the checkpoint (state, weights, optimizer state, stage's best, run's best); every rank gets it."""
    found = None
    if ctx.world.rank == 0:
        path = ctx.job.path("checkpoint")
        recover_dir(path)
        if os.path.exists(os.path.join(path, "state.json")):
            with open(os.path.join(path, "state.json"), encoding="utf-8") as f:
                try:
                    state = json.load(f)
                except ValueError as e:
                    raise EngineError(
                        f"{os.path.join(path, 'state.json')} is damaged ({e}); the run cannot be resumed from it. Start"
                        " it again with tlr run"
                    ) from e
            opt = os.path.join(path, "optimizer.pt")
            sb = os.path.join(path, "stage-best.safetensors")
            best = ctx.job.path("model", "model.safetensors")
            found = {
                "state": state,
                "weights": safetensors.read(os.path.join(path, "model.safetensors")),
                "optimizer": torch.load(opt, map_location="cpu") if os.path.exists(opt) else None,
                "stageBest": safetensors.read(sb) if os.path.exists(sb) else None,
                "best": safetensors.read(best) if os.path.exists(best) else None,
            }
    return broadcast(ctx.world, found)


def trim_metrics(ctx, state):
    """metrics.jsonl as of the checkpoint (a kill between the line and the checkpoint would repeat an epoch)."""
    path = ctx.job.path("metrics.jsonl")
    if ctx.world.rank != 0 or not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n") if line]
    keep = []
    for line in lines:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m["stage"] - 1 < state["stage"] or (m["stage"] - 1 == state["stage"] and m["epoch"] <= state["epoch"]):
            keep.append(line)
    if len(keep) != len(lines):
        write_atomic(path, "".join(line + "\n" for line in keep))
