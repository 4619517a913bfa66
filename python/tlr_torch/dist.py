"""The process group: one process (world 1, nothing to set up) or many, started by torchrun or by
tlr's launcher with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK set."""

import datetime
import os

import torch
import torch.distributed as dist

from .errors import EngineError


class World:
    def __init__(self, device_kind):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device_kind == "cuda":
            if not torch.cuda.is_available():
                raise EngineError(
                    "--device cuda was asked for, but torch sees no CUDA device here (torch.cuda.is_available() is"
                    " False); use --device cpu"
                )
            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        self.backend = "nccl" if device_kind == "cuda" else "gloo"
        if self.size > 1:
            missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
            if missing:
                raise EngineError(
                    f"WORLD_SIZE is {self.size} but {', '.join(missing)} is not set: start the processes with torchrun"
                    " or `tlr run --engine torch --nproc N`"
                )
            minutes = float(os.environ.get("TLR_TORCH_TIMEOUT_MINUTES", "30"))
            dist.init_process_group(
                self.backend, rank=self.rank, world_size=self.size, timeout=datetime.timedelta(minutes=minutes)
            )

    @property
    def comm_device(self):
        """Where tensors for collectives live: the GPU for nccl, the CPU for gloo."""
        return self.device if self.backend == "nccl" else torch.device("cpu")

    @property
    def distributed(self):
        return self.size > 1

    def sum(self, values):
        """Sums a list of numbers over the ranks (float64)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.comm_device)
        if self.distributed:
            dist.all_reduce(t)
        return t.tolist()

    def any(self, flag):
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def gather(self, rows):
        """Every rank's rows (any number each), concatenated in rank order on every rank (on the CPU)."""
        if not self.distributed:
            return rows.cpu()
        rows = rows.to(self.comm_device)
        n = torch.tensor([rows.shape[0]], dtype=torch.long, device=self.comm_device)
        sizes = [torch.zeros_like(n) for _ in range(self.size)]
        dist.all_gather(sizes, n)
        padded = torch.zeros(
            (int(max(s.item() for s in sizes)), *rows.shape[1:]), dtype=rows.dtype, device=self.comm_device
        )
        padded[: rows.shape[0]] = rows
        parts = [torch.zeros_like(padded) for _ in range(self.size)]
        dist.all_gather(parts, padded)
        return torch.cat([p[: int(s.item())] for p, s in zip(parts, sizes)]).cpu()

    def barrier(self):
        if self.distributed:
            dist.barrier()

    def close(self):
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def share(n, size, rank):
    """The slice [a, b) of n examples that `rank` of `size` takes: contiguous, sizes differing by at most one."""
    base, extra = divmod(n, size)
    a = rank * base + min(rank, extra)
    return a, a + base + (1 if rank < extra else 0)
