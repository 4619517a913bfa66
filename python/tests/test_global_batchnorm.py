"""Global-batch BatchNorm: two ranks, each with half of a batch, normalise and update their
statistics as one process would with the whole batch (gloo, two processes on this machine)."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from tlr_torch.network import use_global_batchnorm


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, port, x, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        net = nn.Sequential(nn.BatchNorm2d(3))
        use_global_batchnorm(net, dist.new_group([0, 1]))
        net.train()
        half = x[:5] if rank == 0 else x[5:]
        y = net(half.clone().requires_grad_(True))
        y.sum().backward()
        bn = net[0]
        out[rank] = {"y": y.detach(), "mean": bn.running_mean.clone(), "var": bn.running_var.clone()}
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="this torch has no gloo")
def test_two_ranks_normalise_like_one_process_with_the_whole_batch():
    torch.manual_seed(1)
    x = torch.randn(9, 3, 4, 4) * 3 + 1  # 9 rows: shares of 5 and 4
    with mp.Manager() as m:
        out = m.dict()
        mp.spawn(rank_main, args=(free_port(), x, out), nprocs=2, join=True)
        got = dict(out)
    ref = nn.BatchNorm2d(3)
    ref.train()
    y = ref(x)
    assert torch.allclose(torch.cat([got[0]["y"], got[1]["y"]]), y.detach(), atol=1e-5)
    for r in (0, 1):
        assert torch.allclose(got[r]["mean"], ref.running_mean, atol=1e-6)
        assert torch.allclose(got[r]["var"], ref.running_var, atol=1e-5)
