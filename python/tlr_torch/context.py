"""What every step of a run needs: the job, the process group, events, the loader, the network."""
import contextlib
import os

import torch
import torch.distributed as dist

from .data import Loader, default_workers
from .errors import EngineError
from .network import Head, Net, backbone, load_backbone, prefers_channels_last, use_global_batchnorm
from .targets import label_table


class Context:
    """What every step needs: the job, the process group, events, the network and the data."""

    def __init__(self, job, world, events, amp, workers=None):
        self.job, self.plan, self.world, self.events = job, job.plan, world, events
        self.pre = self.plan["model"]["preprocessing"]
        self.augment = self.plan["data"]["augment"]
        last = self.plan["head"]["layers"][-1]
        # Multi-label: the label-set table a batch's codes index (targets.py), and the thresholds once chosen.
        self.targets = label_table(job.label_sets, len(job.classes)) if job.label_sets is not None else None
        self.thresholds = None
        self.channels_last = False  # build() decides
        activation = "softmax" if self.targets is None else "sigmoid"
        self.probabilities = last["kind"] == "dense" and last["activation"] == activation
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
        net = net.to(self.world.device)
        self.channels_last = prefers_channels_last(net.backbone, self.world.device)
        return net.to(memory_format=torch.channels_last) if self.channels_last else net

    def images(self, x):
        """A batch on the device, in the network's memory format (build)."""
        x = x.to(self.world.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x
