"""After training: the best model evaluated, and report.json and environment.json written."""
import json
import os
import platform
import time

import torch
import torchvision

from . import ENGINE_VERSION
from .files import write_json
from .metrics import evaluation
from .network import freeze, set_mode
from .stage import predict_rows


def evaluate_best(ctx, net, run):
    """The best weights on the test split (validation when there is none), gathered to rank 0."""
    if run.best is not None:
        net.load_saved(run.best, ctx.job.path("model", "model.safetensors"))
    freeze(net, ctx.job.layers, len(ctx.job.layers))
    set_mode(net, False)
    split = "test" if ctx.job.splits["test"] else "validation"
    items = ctx.job.splits[split]
    rows = predict_rows(ctx, net, items, max(ctx.plan["stages"][0]["batch"], 32))
    ctx.note_unreadable(split)
    # The test part follows the rule the other parts do (and the tfjs engine): past 1% unreadable,
    # the run stops rather than report an accuracy on what is left.
    ctx.check_unreadable()
    allrows = ctx.world.gather(rows)
    ids, y, pred, conf, loss = (allrows[:, i] for i in range(5))
    ev = evaluation(
        split,
        ctx.plan["data"]["classes"],
        [int(v) for v in y],
        [int(v) for v in pred],
        float(loss.mean()) if len(loss) else float("nan"),
    )
    ctx.events.emit("evaluation", evaluation=ev)
    return ev, allrows, items


def misclassified(ctx, rows, items):
    classes = ctx.plan["data"]["classes"]
    wrong = [r for r in rows.tolist() if int(r[1]) != int(r[2])]
    wrong.sort(key=lambda r: -r[3])
    out = []
    for r in wrong[:24]:
        it = items[int(r[0])]
        if it.member is not None:
            offset, size, name = it.member
            image = {"kind": "member", "shard": it.path, "name": name, "offset": offset, "size": size}
        elif it.index is None:
            image = {"kind": "file", "path": it.path}
        else:
            image = {"kind": "idx", "file": it.path, "index": it.index}
        out.append({"image": image, "label": classes[int(r[1])], "predicted": classes[int(r[2])], "confidence": r[3]})
    return out


def recipe_provenance(ctx):
    """Which recipe the run came from, as Node recorded it in engine.json when the run started (or None)."""
    try:
        with open(ctx.job.path("engine.json"), encoding="utf-8") as f:
            return json.load(f).get("recipe")
    except (OSError, ValueError, AttributeError):
        return None


def write_results(ctx, run, ev, rows, items, started):
    if ctx.world.rank != 0:
        return 0.0
    plan = ctx.plan
    seconds = time.time() - started
    with open(ctx.job.path("metrics.jsonl"), encoding="utf-8") as f:
        epochs = [json.loads(line) for line in f.read().split("\n") if line]
    train_seconds = sum(e["seconds"] for e in epochs)
    images = len(ctx.job.splits["train"])
    best = run.state["best"]
    write_json(
        ctx.job.path("report.json"),
        {
            "format": "tlr-report",
            "version": 1,
            "recipe": plan["recipe"]["name"],
            "best": {
                "metric": plan["save"]["metric"],
                "value": best["value"],
                "stage": best["stage"] + 1,
                "epoch": best["epoch"] + 1,
            },
            "evaluation": ev,
            "misclassified": misclassified(ctx, rows, items),
            "unreadable": ctx.unreadable,
            "seconds": seconds,
            "backend": ctx.label,
            **(
                {"lrAuto": [{"stage": int(k) + 1, "lr": v} for k, v in run.state["lrFound"].items()]}
                if run.state.get("lrFound")
                else {}
            ),
            "training": {
                "epochs": len(epochs),
                "seconds": train_seconds,
                "images": images,
                "imagesPerSecond": images * len(epochs) / train_seconds if train_seconds else None,
            },
        },
    )
    w = ctx.world
    write_json(
        ctx.job.path("environment.json"),
        {
            "format": "tlr-environment",
            "version": 1,
            "tlr": ctx.job.job.get("tlr"),
            "engine": "torch",
            "engineVersion": ENGINE_VERSION,
            "recipe": recipe_provenance(ctx),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
            "platform": f"{platform.system().lower()} {platform.machine()}",
            "cpus": os.cpu_count(),
            "backend": ctx.label,
            "device": w.device.type,
            "distributed": {
                "backend": w.backend if w.distributed else None,
                "ranks": w.size,
                "launcher": os.environ.get(
                    "TLR_LAUNCHER", "torchrun" if "TORCHELASTIC_RUN_ID" in os.environ else "single process"
                ),
            },
            "devices": (
                [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
                if w.device.type == "cuda"
                else [platform.processor() or platform.machine()]
            ),
            "amp": ctx.amp,
            # The most this rank's CUDA device held at once (torch.cuda.max_memory_allocated); null on CPU.
            "peakDeviceMemory": torch.cuda.max_memory_allocated(w.device) if w.device.type == "cuda" else None,
            "seed": plan["seed"],
            "weights": ctx.job.job.get("weights"),
        },
    )
    import shutil

    shutil.rmtree(ctx.job.path("checkpoint"), ignore_errors=True)
    return seconds
