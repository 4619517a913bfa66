"""One stage's training: class weights, DDP, the learning-rate finder, the epochs, and what each records."""
import time

import torch

from .errors import EngineError
from .network import counts, for_inference, freeze, set_mode
from .stage import Batches, lr_sweep, make_optimizer, param_groups, run_epoch, validate
from .features import cached_features, prefix_cache
from .saver import state_copy, fresh_state, tie_break_of
from .targets import positive_weights


def class_weights(ctx):
    """Inverse class frequencies; multi-label, each label's positive weight (targets.py)."""
    k = len(ctx.plan["data"]["classes"])
    if ctx.targets is not None:
        codes = (it.label for it in ctx.job.splits["train"])
        return torch.tensor(positive_weights(codes, ctx.job.label_sets, k), device=ctx.world.device)
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


def check_counts(ctx, net, s):
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


def with_found_lr(ctx, net, run, s, model, params, source, weights):
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
    check_counts(ctx, net, s)
    cached = stage["featureCache"]["use"]
    train_items, val_items = ctx.job.splits["train"], ctx.job.splits["validation"]
    feats = vfeats = None
    split = None if cached else prefix_cache(ctx, net, s)
    module = net.head if cached else split[1] if split else net
    if cached or split:
        # Computed once for the stage: the backbone's features, or the frozen part's outputs.
        fn, shape, through = (
            (lambda x, b=for_inference(net.backbone): torch.flatten(b(x), 1), (ctx.plan["head"]["inputs"],), None)
            if cached
            else (for_inference(split[0]), split[2], split[3])
        )
        feats = cached_features(ctx, net, fn, shape, train_items, "train", max(stage["batch"], 32), through)
        vfeats = cached_features(ctx, net, fn, shape, val_items, "validation", max(stage["batch"], 32), through)
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
    weights = class_weights(ctx) if stage["classWeights"] == "auto" else None
    source = Batches(ctx, train_items, feats)
    stage = with_found_lr(ctx, net, run, s, model, params, source, weights)
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
        if "map" in v:
            metrics["val_map"] = v["map"] if v["map"] is not None else float("nan")
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
        weights = state_copy(self.net)
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
        self.saver.checkpoint(self.state, state_copy(self.net), None, None)
