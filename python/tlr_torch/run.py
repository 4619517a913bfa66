"""A whole run on this engine: the network, every stage from the checkpoint's point on, the best
model evaluated, and the run folder's files (rank 0 alone writes, atomically)."""
import os
import time

import torch

from .errors import EngineError
from .checkpoints import read_checkpoint, trim_metrics
from .context import Context
from .results import evaluate_best, write_predictions, write_results
from .saver import Saver, state_copy
from .training import Run, train_stage


def run(job, world, events, amp=False, workers=None):
    """Runs (or continues, from the checkpoint) the job's plan. Returns 'finished' or 'interrupted'."""
    from .stage import Stopper

    started = time.time()
    ctx = Context(job, world, events, amp, workers)
    ctx.stopper = Stopper()
    torch.manual_seed(job.plan["seed"])
    if os.path.exists(job.path("report.json")):
        raise EngineError(f"{job.dir} has already finished (its report.json exists)")
    for st in job.plan["stages"]:
        if st["batch"] % world.size:
            raise EngineError(
                f"stage {st['index']}'s batch of {st['batch']} does not divide among {world.size} processes: the"
                f" recipe's batch is the global batch, split evenly across processes; use a multiple of {world.size}"
            )
    net = ctx.build()
    found = read_checkpoint(ctx)
    saver = Saver(ctx)
    r = Run(ctx, net, saver, found)
    if found:
        trim_metrics(ctx, r.state)
    try:
        for s in range(r.state["stage"], len(job.plan["stages"])):
            if s == r.state["stage"] and r.state["epoch"] == 0 and not found:
                saver.checkpoint(r.state, state_copy(net), None, None)  # the stage's starting point
            if train_stage(ctx, net, r, s) == "interrupted":
                world.barrier()
                events.emit("interrupted", runDir=job.dir, stage=s + 1, epoch=r.state["epoch"])
                return "interrupted"
            r.next_stage(s)
            found = None
        ev, rows, items = evaluate_best(ctx, net, r)
        write_predictions(ctx, rows, items)
        seconds = write_results(ctx, r, ev, rows, items, started)
        best = r.state["best"]
        events.emit(
            "finished",
            runDir=job.dir,
            modelDir=job.path("model"),
            best={
                "metric": job.plan["save"]["metric"],
                "value": best["value"],
                "stage": best["stage"] + 1,
                "epoch": best["epoch"] + 1,
            },
            evaluation=ev,
            seconds=seconds,
        )
        return "finished"
    finally:
        ctx.loader.close()
