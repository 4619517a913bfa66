"""A whole run on this engine: the network, every stage from the checkpoint's point on, the best
model evaluated, and the run folder's files (rank 0 alone writes, atomically)."""

import contextlib
import json
import os
import platform
import time

import torch
import torch.distributed as dist
import torchvision

from . import ENGINE_VERSION, safetensors
from .data import Loader, default_workers
from .dist import share
from .errors import EngineError
from .files import append_line, recover_dir, replace_dir_atomic, write_atomic, write_json, write_marker
from .metrics import evaluation
from .resize import RESIZER
from .network import (
    Chain,
    Head,
    Net,
    backbone,
    counts,
    for_inference,
    freeze,
    frozen_steps,
    load_backbone,
    sequence,
    set_mode,
    use_global_batchnorm,
)
from .stage import Batches, lr_sweep, make_optimizer, param_groups, predict_rows, run_epoch, validate


class Context:
    """What every step needs: the job, the process group, events, the network and the data."""

    def __init__(self, job, world, events, amp, workers=None):
        self.job, self.plan, self.world, self.events = job, job.plan, world, events
        self.pre = self.plan["model"]["preprocessing"]
        self.augment = self.plan["data"]["augment"]
        last = self.plan["head"]["layers"][-1]
        self.probabilities = last["kind"] == "dense" and last["activation"] == "softmax"
        if workers is None:
            workers = default_workers(world.device.type, world.size)
        self.loader = Loader(
            self.plan["model"]["inputSize"],
            threads=max(1, (os.cpu_count() or 2) // world.size),
            workers=workers,
            pin=world.device.type == "cuda",
        )
        self.amp = bool(amp) and world.device.type == "cuda"
        # torch.amp.GradScaler("cuda") on PyTorch 2.3+, torch.cuda.amp.GradScaler before (deprecated since).
        scaler = getattr(torch.amp, "GradScaler", None)
        self.scaler = scaler("cuda", enabled=self.amp) if scaler else torch.cuda.amp.GradScaler(enabled=self.amp)
        self.unreadable = {"train": 0, "validation": 0, "test": 0}
        self._reported = set()
        f = os.environ.get("TLR_TORCH_FAULT", "")  # rank:R:batch:B, for the dying-rank test
        parts = f.split(":")
        self.fault = (int(parts[1]), int(parts[3])) if len(parts) == 4 else None

    @property
    def label(self):
        w = self.world
        return (
            f"PyTorch {torch.__version__} ({w.device.type},"
            f" {w.backend if w.distributed else 'one process'}{f', {w.size} processes' if w.distributed else ''})"
        )

    def check_unreadable(self):
        """Stops the run past 1% unreadable images of a split (counted over every rank)."""
        for split, n in self.unreadable.items():
            total = len(self.job.splits[split])
            bad = self.world.sum([float(n)])[0]
            if total and bad > total * 0.01:
                raise EngineError(
                    f"{int(bad)} of the {total} {split} images cannot be read (more than 1%): the data set is broken;"
                    " fix or remove those files"
                )

    def autocast(self):
        return torch.autocast("cuda", dtype=torch.float16) if self.amp else contextlib.nullcontext()

    def note_unreadable(self, split):
        for name, reason in self.loader.bad.items():
            if name not in self._reported:
                self._reported.add(name)
                self.unreadable[split] += 1
                self.events.warning(f"skipped an unreadable image: {reason}", file=name)

    def build(self):
        """The network with its starting weights and the plan's head (seeded as the plan says)."""
        m = self.plan["model"]
        b = backbone(m["name"], self.job.job["network"].get("graph"))
        if self.job.weights:
            load_backbone(b, self.job.weights)
        net = Net(b, Head(self.plan["head"]["inputs"], self.plan["head"]["layers"], self.plan["seed"]))
        if self.world.distributed:
            use_global_batchnorm(net, dist.new_group())
        return net.to(self.world.device)


def _state_copy(net):
    return {k: v.detach().to("cpu", copy=True) for k, v in net.saved_state().items()}


def tie_break_of(metric):
    """The loss for an accuracy, the accuracy for a loss (plans before `tieBreak` leave it out)."""
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
        pre = {
            "inputSize": m["inputSize"],
            "mean": m["preprocessing"]["mean"],
            "std": m["preprocessing"]["std"],
            "description": m["preprocessing"]["description"],
            "resize": RESIZER,
            "network": {"name": m["name"], "width": m["width"]},
            "output": "probabilities" if ctx.probabilities else "logits",
        }

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


def _broadcast(world, obj):
    """Rank 0's object on every rank (the checkpoint lives on rank 0's machine)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _read_checkpoint(ctx):
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
    return _broadcast(ctx.world, found)


def _trim_metrics(ctx, state):
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


@torch.no_grad()
def _features(ctx, net, fn, shape, items, split, batch, through=None):
    """`fn`'s outputs (of `shape` per image) for `items`, held in memory: each rank computes its
    share, all ranks get all rows (`ok`: readable). `fn` is the backbone, or a split stage's frozen part."""
    from .data import normalize

    set_mode(net, False)
    a, b = share(len(items), ctx.world.size, ctx.world.rank)
    x = torch.zeros((b - a, *shape), device=ctx.world.device)
    ok = torch.zeros((b - a, 1), device=ctx.world.device)
    done = 0
    extra = {"through": through} if through else {}
    starts = list(range(a, b, batch))
    chunks = [items[start : min(start + batch, b)] for start in starts]
    for start, chunk, (imgs, kept) in zip(starts, chunks, ctx.loader.batches(chunks)):
        ctx.note_unreadable(split)
        if kept:
            rows = torch.tensor(kept) + (start - a)
            x[rows] = fn(normalize(imgs, ctx.pre).to(ctx.world.device)).float().reshape(len(kept), *shape)
            ok[rows] = 1
        done += len(chunk)
        ctx.events.emit(
            "features",
            phase="progress",
            split=split,
            done=min(done * ctx.world.size, len(items)),
            total=len(items),
            key="memory",
            workers=ctx.world.size,
            engine="PyTorch",
        )
    # Shares are contiguous and in rank order: gathered, the rows are in the items' order.
    allx = ctx.world.gather(x).to(ctx.world.device)
    allok = ctx.world.gather(ok)[:, 0] > 0
    ctx.events.emit(
        "features",
        phase="done",
        split=split,
        total=len(items),
        key="memory",
        workers=ctx.world.size,
        engine="PyTorch",
        **extra,
    )
    return {"x": allx, "ok": allok.tolist()}


def _prefix(ctx, net, s):
    """A split stage's frozen part and the part that trains, when the plan caches the frozen part's
    output and it fits TLR_PREFIX_CACHE_MB (in memory, per rank); else None."""
    stage = ctx.plan["stages"][s]
    info = stage["featureCache"].get("prefix")
    steps = sequence(net.backbone, ctx.plan["model"]["name"]) if info else None
    if not steps:
        return None
    k = frozen_steps(steps, set(ctx.job.layers[: stage["frozen"]["layers"]]))
    if k == 0 or k >= len(steps):
        return None
    front = Chain(steps[:k])
    size = ctx.plan["model"]["inputSize"]
    with torch.no_grad():
        set_mode(net, False)
        shape = tuple(front(torch.zeros((1, 3, size, size), device=ctx.world.device)).shape[1:])
    images = len(ctx.job.splits["train"]) + len(ctx.job.splits["validation"])
    need = images * int(torch.tensor(shape).prod()) * 4
    budget = float(os.environ.get("TLR_PREFIX_CACHE_MB", "2048")) * 1024**2
    if need > budget:
        ctx.events.warning(
            f"stage {s + 1}'s frozen part runs every epoch instead of once: its outputs would take"
            f" {need / 1024 ** 2:.0f} MB of memory, more than TLR_PREFIX_CACHE_MB ({budget / 1024 ** 2:.0f} MB)"
        )
        return None
    return front, Chain(steps[k:], net.head), shape, info["through"]


def _class_weights(ctx):
    k = len(ctx.plan["data"]["classes"])
    c = [0] * k
    for it in ctx.job.splits["train"]:
        c[it.label] += 1
    total = sum(c)
    return torch.tensor([total / (k * n) if n else 0.0 for n in c], device=ctx.world.device)


def _wrap(ctx, module):
    if not ctx.world.distributed:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [ctx.world.device.index] if ctx.world.device.type == "cuda" else None
    # Buffers (BatchNorm statistics) are the same on every rank: global-batch BatchNorm computes them alike.
    return DDP(module, device_ids=ids, broadcast_buffers=False)


def _check_counts(ctx, net, s):
    """The modules frozen here are the plan's: their parameter counts must agree (a zoo/torchvision mismatch is a bug,
    said at once)."""
    stage = ctx.plan["stages"][s]
    frozen = freeze(net, ctx.job.layers, stage["frozen"]["layers"], stage.get("batchnorm", "update"))
    backbone_p, head_p = counts(net)
    want = (stage["frozen"]["params"], stage["trainable"]["backboneParams"], stage["trainable"]["headParams"])
    if (frozen, backbone_p, head_p) != want:
        raise EngineError(
            f"stage {s + 1}: the torch network freezes {frozen:,} parameters and trains {backbone_p:,} +"
            f" {head_p:,} (head), but the plan says {want[0]:,}, {want[1]:,} and {want[2]:,} (a bug in tlr: please"
            " report it with the plan)"
        )


def _with_found_lr(ctx, net, run, s, model, params, source, weights):
    """The stage as it trains: with `lr auto`, its initial rate found on its own batches (or the one chosen before a
    resume)."""
    stage = ctx.plan["stages"][s]
    if not stage["lr"].get("auto"):
        return stage
    found = (run.state.get("lrFound") or {}).get(str(s))
    if found is not None:
        ctx.events.emit(
            "lr-found",
            stage=s + 1,
            lr=found,
            rule="chosen before",
            minimum=found,
            steepest=found,
            steps=0,
            resumed=True,
        )
    else:
        set_mode(net, True)
        curve = lr_sweep(ctx, s, net, model, params, source, weights)
        found = float(f"{curve['suggestion']:.2g}")
        run.state["lrFound"] = {**(run.state.get("lrFound") or {}), str(s): found}
        ctx.events.emit(
            "lr-found",
            stage=s + 1,
            lr=found,
            rule=curve["rule"],
            minimum=curve["minimum"],
            steepest=curve["steepest"],
            steps=curve["steps"],
        )
    return {**stage, "lr": {**stage["lr"], "initial": found}}


def train_stage(ctx, net, run, s):
    """Stage s from run.state's epoch on. Returns 'done' or 'interrupted'."""
    plan, world, events = ctx.plan, ctx.world, ctx.events
    stage = plan["stages"][s]
    _check_counts(ctx, net, s)
    cached = stage["featureCache"]["use"]
    train_items, val_items = ctx.job.splits["train"], ctx.job.splits["validation"]
    feats = vfeats = None
    split = None if cached else _prefix(ctx, net, s)
    module = net.head if cached else split[1] if split else net
    if cached or split:
        # Computed once for the stage: the backbone's features, or the frozen part's outputs.
        fn, shape, through = (
            (lambda x, b=for_inference(net.backbone): torch.flatten(b(x), 1), (ctx.plan["head"]["inputs"],), None)
            if cached
            else (for_inference(split[0]), split[2], split[3])
        )
        feats = _features(ctx, net, fn, shape, train_items, "train", max(stage["batch"], 32), through)
        vfeats = _features(ctx, net, fn, shape, val_items, "validation", max(stage["batch"], 32), through)
    model = _wrap(ctx, module)
    params = [p for p in module.parameters() if p.requires_grad]
    opt = make_optimizer(stage["optimizer"], param_groups(stage, net, ctx.job.layers, params), stage["lr"]["initial"])
    if run.state["epoch"] > 0 and run.optimizer_state is not None:
        opt.load_state_dict(run.optimizer_state)
    elif run.state["epoch"] > 0:
        events.warning(
            f"the checkpoint holds no optimizer state: stage {s + 1} continues with the"
            f" {stage['optimizer']} optimizer's state reset"
        )
    run.optimizer_state = None
    weights = _class_weights(ctx) if stage["classWeights"] == "auto" else None
    source = Batches(ctx, train_items, feats)
    stage = _with_found_lr(ctx, net, run, s, model, params, source, weights)
    events.emit(
        "stage-start",
        stage=s + 1,
        of=len(plan["stages"]),
        epochs=stage["epochs"],
        trainable=stage["trainable"]["backboneParams"] + stage["trainable"]["headParams"],
        cached=cached,
        backend=ctx.label,
    )
    best_seen, since = None, run.state["sinceBest"]
    metric = stage["earlyStop"]["metric"] if stage["earlyStop"] else None
    for epoch in range(run.state["epoch"], stage["epochs"]):
        t0 = time.time()
        set_mode(net, True)
        m, stopped = run_epoch(ctx, s, epoch, model, opt, source, weights, ctx.stopper, stage)
        if stopped:
            return "interrupted"
        set_mode(net, False)
        forward = module if (cached or split) else net
        v = validate(ctx, forward, val_items, max(stage["batch"], 32), vfeats)
        ctx.check_unreadable()
        metrics = {"loss": m["loss"], "accuracy": m["accuracy"], "val_loss": v["loss"], "val_accuracy": v["accuracy"]}
        if metric:
            value = metrics[metric]
            if best_seen is None or (value < best_seen if metric.endswith("loss") else value > best_seen):
                best_seen, since = value, 0
            else:
                since += 1
        run.record(s, epoch, metrics, m["lr"], time.time() - t0, since, opt)
        if metric and since >= stage["earlyStop"]["patience"]:
            events.emit(
                "early-stop", stage=s + 1, epoch=epoch + 1, metric=metric, patience=stage["earlyStop"]["patience"]
            )
            return "done"
        if world.any(ctx.stopper.now):
            return "interrupted"
    return "done"


class Run:
    """Where the schedule stands (state.json's fields), the best weights in memory, and what each epoch records."""

    def __init__(self, ctx, net, saver, found):
        self.ctx, self.net, self.saver = ctx, net, saver
        self.state = found["state"] if found else fresh_state()
        self.optimizer_state = found["optimizer"] if found else None
        self.stage_best = found["stageBest"] if found else None
        self.best = found["best"] if found else None
        if found:
            net.load_saved(found["weights"], ctx.job.path("checkpoint", "model.safetensors"))

    def beats(self, m, best):
        """Better on the plan's metric, or tied on it and better on the tie-break metric (as the tfjs engine
        decides)."""
        if best is None:
            return True
        save = self.ctx.plan["save"]
        v = m[save["metric"]]
        if v != best["value"]:
            return v > best["value"] if save["mode"] == "max" else v < best["value"]
        tie = save.get("tieBreak") or tie_break_of(save["metric"])
        w, b = m[tie["metric"]], best.get("second")
        return isinstance(b, (int, float)) and (w > b if tie["mode"] == "max" else w < b)

    def record(self, s, epoch, m, lr, seconds, since, opt):
        plan, st = self.ctx.plan, self.state
        save = plan["save"]
        value = m[save["metric"]]
        second = m[(save.get("tieBreak") or tie_break_of(save["metric"]))["metric"]]
        best = save["which"] == "last" or self.beats(m, st["best"])
        weights = _state_copy(self.net)
        if best:
            st["best"] = {"value": value, "second": second, "stage": s, "epoch": epoch}
            self.best = weights
            self.saver.model(weights, "model")
        stage_best = self.beats(m, st["stageBest"])
        if stage_best:
            st["stageBest"] = {"value": value, "second": second, "epoch": epoch}
            self.stage_best = weights
        found = (st.get("lrFound") or {}).get(str(s))
        self.saver.metrics(
            {
                "stage": s + 1,
                "epoch": epoch + 1,
                **m,
                "lr": lr,
                **({"lrAuto": found} if found is not None else {}),
                "seconds": seconds,
                "best": best,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        st["epoch"], st["sinceBest"] = epoch + 1, since
        self.saver.checkpoint(st, weights, opt, weights if stage_best else "keep")
        ev = self.ctx.events
        ev.emit(
            "epoch",
            stage=s + 1,
            epoch=epoch + 1,
            epochs=plan["stages"][s]["epochs"],
            metrics=m,
            lr=lr,
            seconds=seconds,
            best=best,
        )
        ev.emit("checkpoint", stage=s + 1, epoch=epoch + 1, path=self.ctx.job.path("checkpoint"), best=best)

    def next_stage(self, s):
        """The next stage starts from this stage's best weights; the checkpoint says so at once."""
        if self.stage_best is not None:
            self.net.load_saved(self.stage_best, "the stage's best weights")
        if s + 1 >= len(self.ctx.plan["stages"]):
            return
        self.state = {**self.state, "stage": s + 1, "epoch": 0, "stageBest": None, "sinceBest": 0}
        self.stage_best = None
        self.saver.checkpoint(self.state, _state_copy(self.net), None, None)


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


def _misclassified(ctx, rows, items):
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


def _recipe_provenance(ctx):
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
            "misclassified": _misclassified(ctx, rows, items),
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
            "recipe": _recipe_provenance(ctx),
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
    found = _read_checkpoint(ctx)
    saver = Saver(ctx)
    r = Run(ctx, net, saver, found)
    if found:
        _trim_metrics(ctx, r.state)
    try:
        for s in range(r.state["stage"], len(job.plan["stages"])):
            if s == r.state["stage"] and r.state["epoch"] == 0 and not found:
                saver.checkpoint(r.state, _state_copy(net), None, None)  # the stage's starting point
            if train_stage(ctx, net, r, s) == "interrupted":
                world.barrier()
                events.emit("interrupted", runDir=job.dir, stage=s + 1, epoch=r.state["epoch"])
                return "interrupted"
            r.next_stage(s)
            found = None
        ev, rows, items = evaluate_best(ctx, net, r)
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
