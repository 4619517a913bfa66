"""A split stage's frozen part, cached (tlr_torch/features.py): where the network is cut, and the memory bound."""

import torch

from parts import context
from tlr_torch.features import prefix_cache
from tlr_torch.network import Head, Net, backbone


def split_stage(tmp_path, frozen):
    ctx = context(tmp_path)
    net = Net(backbone("resnet18", None), Head(512, ctx.plan["head"]["layers"], 1))
    names = [n for n, m in net.backbone.named_modules() if list(m.parameters(recurse=False))]
    ctx.job.layers = names
    ctx.job.splits = {"train": [None] * 6, "validation": [None] * 2, "test": []}
    stage = {**ctx.plan["stages"][0], "frozen": {"layers": frozen}}
    stage["featureCache"] = {"use": False, "reason": "test", "prefix": {"through": "layer1", "bytesPerImage": 4}}
    ctx.plan["stages"] = [stage]
    return ctx, net, names


def test_the_network_is_cut_after_the_frozen_steps(tmp_path):
    ctx, net, names = split_stage(tmp_path, frozen=0)
    assert prefix_cache(ctx, net, 0) is None, "nothing frozen: nothing to cache"
    through_layer1 = sum(1 for n in names if n.split(".")[0] in ("conv1", "bn1", "layer1"))
    ctx, net, _ = split_stage(tmp_path, frozen=through_layer1)
    front, rest, shape, through = prefix_cache(ctx, net, 0)
    assert shape == (64, 8, 8) and through == "layer1"
    x = torch.rand(2, 3, 32, 32)
    net.eval()
    with torch.no_grad():
        assert torch.allclose(rest(front(x)), net(x), atol=1e-5)


def test_outputs_past_the_memory_bound_are_not_cached_and_the_run_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("TLR_PREFIX_CACHE_MB", "0.01")
    ctx, net, names = split_stage(
        tmp_path, frozen=sum(1 for n in names_of() if n.split(".")[0] in ("conv1", "bn1", "layer1"))
    )
    assert prefix_cache(ctx, net, 0) is None
    assert "TLR_PREFIX_CACHE_MB" in ctx.events.seen[0]["message"]


def names_of():
    return [n for n, m in backbone("resnet18", None).named_modules() if list(m.parameters(recurse=False))]
