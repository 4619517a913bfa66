"""After training: the best model evaluated, and report.json and environment.json written."""
import csv
import io
import json
import os
import re
import platform
import time

import torch
import torchvision

from . import ENGINE_VERSION
from .files import write_atomic, write_json
from .metrics import evaluation
from .network import freeze, set_mode
from .stage import predict_rows
from .targets import multilabel_report, thresholds_of


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
    mean_loss = float(loss.mean()) if len(loss) else float("nan")
    if ctx.targets is not None:
        ev = _multilabel_best(ctx, net, run, split, allrows, mean_loss)
    else:
        ev = evaluation(split, ctx.plan["data"]["classes"], [int(v) for v in y], [int(v) for v in pred], mean_loss)
    ctx.events.emit("evaluation", evaluation=ev)
    return ev, allrows, items


def _multilabel_best(ctx, net, run, split, rows, loss):
    """Each label's F1-optimal threshold on the validation part, written into the model folder's preprocessing.json,
    then the metrics of `rows` at those thresholds."""
    if split == "validation":
        val = rows
    else:
        batch = max(ctx.plan["stages"][0]["batch"], 32)
        val = ctx.world.gather(predict_rows(ctx, net, ctx.job.splits["validation"], batch))
    ctx.thresholds = thresholds_of(ctx, val)
    run.saver.thresholds()
    return multilabel_report(ctx, split, rows, ctx.thresholds, loss)


def _image(it):
    if it.member is not None:
        offset, size, name = it.member
        return {"kind": "member", "shard": it.path, "name": name, "offset": offset, "size": size}
    if it.index is None:
        return {"kind": "file", "path": it.path}
    return {"kind": "idx", "file": it.path, "index": it.index}


def misclassified(ctx, rows, items):
    if ctx.targets is not None:
        return _mislabelled(ctx, rows, items)
    classes = ctx.plan["data"]["classes"]
    wrong = [r for r in rows.tolist() if int(r[1]) != int(r[2])]
    wrong.sort(key=lambda r: -r[3])
    return [
        {
            "image": _image(items[int(r[0])]),
            "label": classes[int(r[1])],
            "predicted": classes[int(r[2])],
            "confidence": r[3],
        }
        for r in wrong[:24]
    ]


def _mislabelled(ctx, rows, items):
    """Images whose labels at the thresholds are not theirs, the surest wrong decision first (as the tfjs engine)."""
    names, t = ctx.plan["data"]["classes"], ctx.thresholds
    out = []
    for r in rows.tolist():
        truth = set(ctx.job.label_sets[int(r[1])])
        said = [k for k in range(len(names)) if r[5 + k] >= t[k]]
        wrong = [r[5 + k] if k in said else 1 - r[5 + k] for k in range(len(names)) if (k in said) != (k in truth)]
        if wrong:
            out.append((max(wrong), int(r[0]), sorted(truth), said))
    out.sort(key=lambda x: -x[0])
    shown = lambda ks: ", ".join(names[k] for k in ks) or "(none)"  # noqa: E731
    return [
        {"image": _image(items[i]), "label": shown(truth), "predicted": shown(said), "confidence": worst}
        for worst, i, truth, said in out[:24]
    ]


def csv_cell(s):
    """A text cell a spreadsheet never reads as a formula (as src/escape.ts csvCell)."""
    plain = re.fullmatch(r"(?:[+-]?(?:\d+(?:[.,]\d+)*(?:e[+-]?\d+)?%?)|-)", s, re.IGNORECASE)
    return "'" + s if re.match(r"[=+\-@\t\r]", s) and not plain else s


def write_predictions(ctx, rows, items):
    if ctx.world.rank == 0:
        write_atomic(ctx.job.path("predictions.csv"), predictions_csv(ctx, rows, items).encode("utf-8"))


def predictions_csv(ctx, rows, items):
    """predictions.csv, as the tfjs engine writes it: each evaluated image, its label(s), the prediction (multi-label:
    the labels at their thresholds) and its probability of every class."""
    names = ctx.plan["data"]["classes"]
    multi = ctx.targets is not None
    t = ctx.thresholds or [0.5] * len(names)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    header = ["image", "labels" if multi else "label", "predicted", *(f"p:{n}" for n in names)]
    w.writerow([csv_cell(c) for c in header])
    for r in rows.tolist():
        p = r[5 : 5 + len(names)]
        if multi:
            truth = ";".join(names[k] for k in ctx.job.label_sets[int(r[1])])
            said = ";".join(n for k, n in enumerate(names) if p[k] >= t[k])
        else:
            truth, said = names[int(r[1])], names[int(r[2])]
        image = csv_cell(items[int(r[0])].describe())
        w.writerow([image, csv_cell(truth), csv_cell(said), *(repr(float(v)) for v in p)])
    return out.getvalue()


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
