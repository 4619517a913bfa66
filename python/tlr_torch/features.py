"""Cached passes: the backbone's features for a head on them, and a frozen part's output for a split stage."""
import os

import torch

from .dist import share
from .network import Chain, frozen_steps, sequence, set_mode


@torch.no_grad()
def cached_features(ctx, net, fn, shape, items, split, batch, through=None):
    """`fn`'s outputs (of `shape` per image) for `items`, held in memory: each rank computes its
    share, all ranks get all rows (`ok`: readable). `fn` is the backbone, or a split stage's frozen part."""
    from .data import normalize

    set_mode(net, False)
    a, b = share(len(items), ctx.world.size, ctx.world.rank)
    x = torch.zeros((b - a, *shape), device=ctx.world.device)
    ok = torch.zeros((b - a, 1), device=ctx.world.device)
    done = 0
    extra = {"through": through} if through else {}
    per_call = images_per_call(fn, ctx.plan["model"]["inputSize"], ctx.world.device, batch)
    starts = list(range(a, b, batch))
    chunks = [items[start : min(start + batch, b)] for start in starts]
    for start, chunk, (imgs, kept) in zip(starts, chunks, ctx.loader.batches(chunks)):
        ctx.note_unreadable(split)
        if kept:
            rows = torch.tensor(kept) + (start - a)
            inputs = normalize(imgs, ctx.pre).to(ctx.world.device).contiguous(memory_format=torch.channels_last)
            out = torch.cat([fn(part) for part in calls(inputs, per_call)])
            x[rows] = out.float().reshape(len(kept), *shape)
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


# glibc's largest mmap threshold, which KEEP_MALLOC (src/engines/torch/python.ts) sets.
_MMAP_MAX = 32 << 20


def images_per_call(fn, size, device, batch):
    """How many images one forward call of a features pass takes. On the CPU, as many as keep its largest
    activation under 32 MB: glibc maps a larger buffer afresh on every call and faults its pages in again, and on a
    2-core VM MobileNet V2 ran 145 images/s in calls of 8 and 12 in calls of 64. On a GPU, the whole batch. Used by
    the features passes and by the passes that predict from images (validation, test)."""
    # A probe in training mode would move BatchNorm's statistics: such a pass keeps its batch.
    if device.type != "cpu" or getattr(fn, "training", False):
        return batch
    largest = [0]

    def note(_module, _inputs, out):
        if torch.is_tensor(out):
            largest[0] = max(largest[0], out.numel() * out.element_size())

    hook = torch.nn.modules.module.register_module_forward_hook(note)
    try:
        fn(torch.zeros((1, 3, size, size), device=device))
    finally:
        hook.remove()
    return max(1, min(batch, _MMAP_MAX // max(largest[0], 1)))


def calls(x, per_call):
    """`x` in as few forward calls of at most `per_call` images as it takes, evened out: 32 images in calls of at
    most 6 go as 6, 6, 5, 5, 5, 5, not five of 6 and one of 2, which took 15 ms an image against 10 (MobileNet V2,
    2 cores)."""
    return x.tensor_split(-(-len(x) // per_call)) if len(x) else [x]


def prefix_cache(ctx, net, s):
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
