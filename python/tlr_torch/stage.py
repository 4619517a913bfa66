"""One stage's epochs over the global batch, split across ranks: the same epoch order on every
rank (tlr's seeded shuffle), each rank a contiguous share of every global batch, gradients
averaged by DistributedDataParallel with the loss scaled so that the sum over ranks is the global
batch's loss; one update per global batch, as one process would make it."""

import math
import time
import signal

import torch

from .batches import training_batches
from .data import augment, draw_augment, normalize
from .dist import share
from .errors import EngineError
from .features import calls, images_per_call
from .random import epoch_order, rng
from .targets import example_loss, hits, probabilities, validation_metrics


ONE_CYCLE_START, ONE_CYCLE_END, ONE_CYCLE_RISE = 1 / 25, 1e-4, 0.25


def _epoch_factor(stage, epoch):
    s = stage["lr"]["schedule"]
    if s["kind"] == "cosine":
        return (1 + math.cos(math.pi * epoch / stage["epochs"])) / 2
    if s["kind"] == "step":
        return s["factor"] ** (epoch // s["every"])
    return 1.0


def _one_cycle(t, total, rise):
    if t < rise:
        return ONE_CYCLE_START + (1 - ONE_CYCLE_START) * (1 - math.cos(math.pi * t / rise)) / 2
    p = min(1.0, (t - rise) / max(1, total - 1 - rise))
    return ONE_CYCLE_END + (1 - ONE_CYCLE_END) * (1 + math.cos(math.pi * p)) / 2


def learning_rate(stage, epoch, batch=0, batches=1):
    """The stage's (the head's) rate at batch `batch` of `batches` in `epoch`, with the tfjs
    engine's formulas (src/runtime/train/optimizer.ts): per-epoch constant, cosine or step, times a
    linear warm-up per batch; one-cycle per batch."""
    lr0, s = stage["lr"]["initial"], stage["lr"]["schedule"]
    t, total = epoch * batches + batch, stage["epochs"] * batches
    # Halves round up, as JavaScript's Math.round does (Python's round goes to even).
    warm = max(1, math.floor(s["warmup"] * batches + 0.5)) if "warmup" in s else 0
    if s["kind"] == "one-cycle":
        return lr0 * _one_cycle(t, total, warm or max(1, math.floor(ONE_CYCLE_RISE * total + 0.5)))
    ramp = (t + 1) / warm if warm and t < warm else 1.0
    return lr0 * ramp * _epoch_factor(stage, epoch)


def set_rate(opt, lr):
    """Every parameter group at its fraction of the stage's rate (1 unless `lr LOW..HIGH`)."""
    for g in opt.param_groups:
        g["lr"] = lr * g.get("scale", 1.0)


def param_groups(stage, net, layers, params):
    """`lr LOW..HIGH`: a group per trained block at its fraction of the head's rate; a backbone module
    belongs to the last block starting at or before its zoo layer index, the head (and anything
    else) to the last group. Without blocks, one group."""
    blocks = stage["lr"].get("blocks")
    if not blocks:
        return [{"params": params, "scale": 1.0}]
    index = {n: i for i, n in enumerate(layers)}
    group_of = {}
    for name, m in net.backbone.named_modules():
        at = index.get(name)
        if at is None:
            continue
        g = len(blocks)
        for k, b in enumerate(blocks):
            if b["from"] <= at:
                g = k
        for p in m.parameters(recurse=False):
            group_of[id(p)] = g
    groups = [{"params": [], "scale": b["lr"] / stage["lr"]["initial"]} for b in blocks] + [
        {"params": [], "scale": 1.0}
    ]
    for p in params:
        groups[group_of.get(id(p), len(blocks))]["params"].append(p)
    return [g for g in groups if g["params"]]


def make_optimizer(name, params, lr):
    """The tfjs engine's optimizers with its hyper-parameters (docs/engines/torch.md)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-7)


class Stopper:
    """Ctrl-C (SIGINT) or SIGTERM asks for a stop after the current batch; every rank agrees on it in the batch's
    all-reduce."""

    def __init__(self):
        self.asked = False
        signal.signal(signal.SIGINT, self._ask)
        signal.signal(signal.SIGTERM, self._ask)

    def _ask(self, *_):
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    @property
    def now(self):
        """Asked to stop, or the launcher that started this rank has died (its ranks are orphans then)."""
        import os

        parent = os.environ.get("TLR_PARENT_PID")
        if parent and os.getppid() != int(parent):
            self.asked = True
        return self.asked


class NonFinite(EngineError):
    pass


def _fault(ctx, batch_no):
    """A test hook: TLR_TORCH_FAULT=rank:R:batch:B makes rank R die at its B-th batch of this process (a dying process,
    on purpose)."""
    f = ctx.fault
    ctx.batches_run = getattr(ctx, "batches_run", 0) + 1
    if f and f[0] == ctx.world.rank and f[1] == ctx.batches_run:
        import os

        os._exit(3)


class Batches:
    """A source of global batches: images decoded (and augmented) per batch, or cached rows."""

    def __init__(self, ctx, items, features=None):
        self.ctx, self.items, self.features = ctx, items, features
        self._ahead, self._stream = [], None  # the batches a pass decodes ahead, in order, and their decoder
        self.waited = 0.0  # seconds this rank waited for decoded batches in the current pass

    def _mine(self, idx):
        a, b = share(len(idx), self.ctx.world.size, self.ctx.world.rank)
        return a, idx[a:b]

    def begin(self, cuts):
        """Starts decoding this rank's share of every batch of a pass, in order, ahead of training on them."""
        if self.features is None:
            shares = [[self.items[i] for i in self._mine(idx)[1]] for idx in cuts]
            self._stream = self.ctx.loader.batches(shares)
            self._ahead = [list(idx) for idx in cuts]
        self.waited = 0.0

    def order(self, seed, sampler="shuffle"):
        # Every rank must draw the same order: unreadable images are dropped from each batch as it
        # is decoded, not from the order (ranks find them at different times).
        keep = [i for i in range(len(self.items)) if self.features is None or self.features["ok"][i]]
        labels = [it.label for it in self.items] if sampler == "balanced" else []  # a shuffle reads none
        return epoch_order(keep, labels, sampler, rng(seed))

    def local(self, idx, aug):
        """This rank's share of the global batch `idx`: inputs and labels (unreadable images dropped)."""
        ctx = self.ctx
        a, mine = self._mine(idx)
        if self.features is not None:
            x = self.features["x"][mine]
            return x, torch.tensor([self.items[i].label for i in mine], dtype=torch.long)
        items = [self.items[i] for i in mine]
        if self._ahead and self._ahead[0] == list(idx):
            self._ahead.pop(0)
            t = time.perf_counter()
            x, kept = next(self._stream)
            self.waited += time.perf_counter() - t
        else:  # a batch nobody asked ahead for (the learning-rate finder's)
            self._ahead = []
            x, kept = ctx.loader.collect(ctx.loader.submit(items), items)
        ctx.note_unreadable("train")
        if aug is not None:
            x = augment(x, ctx.augment, aug, torch.tensor([a + k for k in kept], dtype=torch.long))
        return normalize(x, ctx.pre), torch.tensor([items[k].label for k in kept], dtype=torch.long)


def train_step(ctx, model, opt, source, idx, aug, class_weights):
    """One update on the global batch `idx` from this rank's share of it. The loss back-propagated is
    the share's weighted sum over the global batch's count of weighted examples, times the world
    size: DDP's average of the ranks' gradients is then the global batch's. Returns the share's
    outputs and labels, its weighted loss sum, and that count."""
    x, y = source.local(idx, aug)
    x, y = ctx.images(x), y.to(ctx.world.device)
    # Multi-label: `class_weights` are the labels' positive weights, inside each example's loss.
    multi = ctx.targets is not None
    w = class_weights[y] if class_weights is not None and not multi else torch.ones(len(y), device=y.device)
    denom = max(ctx.world.sum([float((w > 0).sum())])[0], 1.0)
    with ctx.autocast():
        out = model(x)
    weighted = (w * example_loss(ctx, out.float(), y, class_weights if multi else None)).sum()
    opt.zero_grad(set_to_none=True)
    ctx.scaler.scale(weighted / denom * ctx.world.size).backward()
    ctx.scaler.step(opt)
    ctx.scaler.update()
    return out, y, weighted, denom


def _loader_limit(ctx, s, epoch, source, images, seconds):
    """Says so when the epoch waited on decoding for more than half its time: the images/s the loader gave, and what
    the network alone ran (the rest of the time). Every rank's wait counts: the slowest sets the pace."""
    if source.features is not None or seconds <= 0 or not images:
        return
    waited = ctx.world.sum([source.waited])[0] / ctx.world.size
    if waited <= seconds / 2:
        return
    ctx.events.warning(
        f"stage {s + 1}, epoch {epoch + 1}: data loading limited this stage to {images / seconds:,.0f} images/s; the"
        f" network alone runs {images / max(seconds - waited, 1e-9):,.0f} (more loader processes: --workers N;"
        " later epochs read decoded pixels from TLR_CACHE)"
    )


def run_epoch(ctx, s, epoch, model, opt, source, class_weights, stopper, stage=None):
    """One epoch of `stage` (the plan's stage s, or it as it trains: `lr auto` sets its rate); returns
    (metrics so far with "lr", the rate of its first batch; interrupted)."""
    stage = stage or ctx.plan["stages"][s]
    batch = stage["batch"]
    seed = ctx.plan["seed"] * 1000 + s * 100 + epoch
    order = source.order(seed, stage.get("sampler", "shuffle"))
    cuts = training_batches(order, batch)
    source.begin(cuts)
    batches = len(cuts)
    aug_gen = torch.Generator().manual_seed(seed) if ctx.augment and source.features is None else None
    total = hits_total = count_total = 0.0
    started = time.perf_counter()
    first_lr = learning_rate(stage, epoch, 0, batches)
    for b, idx in enumerate(cuts):
        _fault(ctx, b + 1)
        aug = draw_augment(ctx.augment, len(idx), aug_gen) if aug_gen is not None else None
        lr = learning_rate(stage, epoch, b, batches)
        set_rate(opt, lr)
        out, y, weighted, denom = train_step(ctx, model, opt, source, idx, aug, class_weights)
        right = hits(ctx, out.float(), y)
        lsum, h, n, stop = ctx.world.sum([float(weighted), right, float(len(y)), 1.0 if stopper.now else 0.0])
        loss = lsum / denom
        total += loss * n
        hits_total += h
        count_total += n
        ctx.events.emit("batch", stage=s + 1, epoch=epoch + 1, batch=b + 1, batches=batches, loss=loss)
        if not math.isfinite(loss):
            raise NonFinite(
                f"stage {s + 1}, epoch {epoch + 1}, batch {b + 1}: the loss is {loss} (training diverged); what earlier"
                f" epochs saved (the best model, the checkpoint) is kept. Try a lower learning rate than {lr} (`lr"
                f" {float(f'{lr / 10:.3g}')}`), or check the data for broken images"
            )
        if stop:
            return None, True
    _loader_limit(ctx, s, epoch, source, count_total, time.perf_counter() - started)
    return {
        "loss": total / count_total if count_total else float("nan"),
        "accuracy": hits_total / count_total if count_total else 0.0,
        "lr": first_lr,
    }, False


@torch.no_grad()
def predict_rows(ctx, forward, items, batch, features=None):
    """This rank's share of `items` through `forward`: rows of (item index, label, predicted, confidence, loss), then
    each class's (multi-label: each label's) probability."""
    a, b = share(len(items), ctx.world.size, ctx.world.rank)
    rows = []
    spans = [list(range(start, min(start + batch, b))) for start in range(a, b, batch)]
    decoded = ctx.loader.batches([[items[i] for i in ids] for ids in spans]) if features is None else None
    size, device = ctx.plan["model"]["inputSize"], ctx.world.device
    per_call = images_per_call(forward, size, device, batch) if features is None and spans else batch
    for ids in spans:
        if features is not None:
            ids = [i for i in ids if features["ok"][i]]
            x = features["x"][ids]
        else:
            x, kept = next(decoded)
            ids = [ids[k] for k in kept]
            x = normalize(x, ctx.pre)
        if not ids:
            continue
        out = torch.cat([forward(part) for part in calls(ctx.images(x), per_call)]).float()
        y = torch.tensor([items[i].label for i in ids], device=out.device)
        probs = probabilities(ctx, out)
        conf, pred = probs.max(-1)
        loss = example_loss(ctx, out, y)
        cols = [torch.tensor(ids, dtype=torch.float64), y.double().cpu(), pred.double().cpu(), conf.double().cpu()]
        rows.append(torch.cat([torch.stack([*cols, loss.double().cpu()], 1), probs.double().cpu()], 1))
    width = 5 + len(ctx.plan["data"]["classes"])
    return torch.cat(rows) if rows else torch.zeros((0, width), dtype=torch.float64)


def validate(ctx, forward, items, batch, features=None):
    rows = predict_rows(ctx, forward, items, batch, features)
    if ctx.targets is not None:
        loss, n = ctx.world.sum([float(rows[:, 4].sum()), float(rows.shape[0])])
        return {"loss": loss / n if n else float("nan"), **validation_metrics(ctx, ctx.world.gather(rows))}
    loss, right, n = ctx.world.sum(
        [float(rows[:, 4].sum()), float((rows[:, 1] == rows[:, 2]).sum()), float(rows.shape[0])]
    )
    return {"loss": loss / n if n else float("nan"), "accuracy": right / n if n else 0.0}


def centred(xs, half=4):
    """A centred moving average: no lag (as src/runtime/train/lr-find.ts smooths)."""
    out = []
    for i in range(len(xs)):
        w = xs[max(0, i - half) : i + half + 1]
        out.append(sum(w) / len(w))
    return out


def suggest(lrs, smoothed):
    """A tenth of the rate at the lowest smoothed loss, and the steepest point before it (the tfjs engine's rule)."""
    low = min(range(len(smoothed)), key=lambda i: (smoothed[i], i))
    skip = min(len(smoothed) // 10, max(0, low - 1))
    steep, slope = skip, math.inf
    for i in range(skip + 1, low + 1):
        d = (smoothed[i] - smoothed[i - 1]) / (math.log10(lrs[i]) - math.log10(lrs[i - 1]))
        if d < slope:
            slope, steep = d, i
    return {
        "suggestion": lrs[low] / 10,
        "minimum": lrs[low],
        "steepest": lrs[steep],
        "rule": "a tenth of the rate where the smoothed loss is lowest",
    }


def lr_sweep(ctx, s, net, model, params, source, class_weights, steps=100, lo=1e-7, hi=10.0):
    """The learning-rate range test on stage s's batches (every rank alike); the weights are put back."""
    stage = ctx.plan["stages"][s]
    saved = {k: v.detach().clone() for k, v in net.state_dict().items()}
    opt = make_optimizer(stage["optimizer"], params, lo)
    lrs, losses, avg, best, passes = [], [], 0.0, math.inf, 0
    try:
        while len(lrs) < steps:
            before = len(lrs)
            order = source.order(ctx.plan["seed"] * 7919 + s * 13 + passes)
            passes += 1
            for idx in training_batches(order, stage["batch"]):
                lr = lo * (hi / lo) ** (len(lrs) / max(1, steps - 1))
                set_rate(opt, lr)
                _, _, weighted, denom = train_step(ctx, model, opt, source, idx, None, class_weights)
                loss = ctx.world.sum([float(weighted)])[0] / denom
                lrs.append(lr)
                losses.append(loss)
                avg = 0.9 * avg + 0.1 * loss
                smooth = avg / (1 - 0.9 ** len(lrs))
                best = min(best, smooth)
                if not math.isfinite(loss) or smooth > 4 * best or len(lrs) >= steps:
                    break
            if len(lrs) == before or not math.isfinite(losses[-1]) or avg / (1 - 0.9 ** len(lrs)) > 4 * best:
                break
    finally:
        net.load_state_dict(saved)
    finite = [v for v in losses if math.isfinite(v)]
    if len(finite) < 5:
        raise EngineError(
            f"stage {s + 1}: the learning-rate sweep ran only {len(finite)} finite steps; write the stage's lr instead"
            " of `lr auto`"
        )
    n = len(finite) if len(finite) == len(losses) else losses.index(next(v for v in losses if not math.isfinite(v)))
    return {**suggest(lrs[:n], centred(losses[:n])), "steps": len(lrs)}
