"""The zoo's torchvision networks built by torchvision's own constructors, cut at tlr's feature
layer, with the plan's head on top; the others (the Keras MobileNets) built from the zoo's graph
(graph.py). Module names are the zoo's layer names (`tlr models NAME`), so freezing the plan's
first N layers freezes the same modules here."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from . import safetensors
from .errors import EngineError
from .graph import GraphNet, Segment

# name -> (constructor, how to cut it at the feature layer); networks torchvision lacks are absent.
_RESNETS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
_DENSENETS = ["densenet121", "densenet161", "densenet169"]


def _cut_fc(m):
    m.fc = nn.Identity()
    return m


def _cut_classifier(m):
    m.classifier = nn.Identity()
    return m


def _cut_last_linear(m):
    # The feature layer is classifier.5 (the dropout after the second Linear): drop classifier.6.
    m.classifier[6] = nn.Identity()
    return m


def _inception(m):
    m.fc = nn.Identity()
    m.dropout = nn.Identity()  # tlr's features are avgpool's output, before any dropout
    return m


NETWORKS = {
    **{n: (lambda n=n: getattr(torchvision.models, n)(weights=None), _cut_fc) for n in _RESNETS},
    **{n: (lambda n=n: getattr(torchvision.models, n)(weights=None), _cut_classifier) for n in _DENSENETS},
    **{
        n: (lambda n=n: getattr(torchvision.models, n)(weights=None), _cut_last_linear)
        for n in ("vgg16", "vgg19", "alexnet")
    },
    "inception_v3": (
        lambda: torchvision.models.inception_v3(
            weights=None, aux_logits=False, transform_input=False, init_weights=False
        ),
        _inception,
    ),
}

# Keys a weights file may hold for parts the backbone leaves out (the ImageNet classifier, the Keras MobileNets'
# conv_preds and predictions, Inception's auxiliary head, a previous head).
_LEFT_OUT = ("fc.", "classifier.6.", "conv_preds.", "predictions.", "AuxLogits.", "head.")
# timm stores VGG's classifier under other names (as convolutions); tlr's Node side reads them the same way.
_ALIASES = {"pre_logits.fc1": "classifier.0", "pre_logits.fc2": "classifier.3", "head.fc": "classifier.6"}


def backbone(name, graph=None):
    """torchvision's network `name` cut at the feature layer, or the zoo's `graph` (job.json) built as it is."""
    if name in NETWORKS:
        make, cut = NETWORKS[name]
        return cut(make())
    if graph:
        return GraphNet(graph)
    raise EngineError(
        f"the torch engine has no {name} without its graph: job.json's network has no 'graph' (a job folder written by"
        " an older tlr); prepare the run again with this tlr"
    )


def _renamed(state):
    out = {}
    for key, t in state.items():
        layer, _, param = key.rpartition(".")
        out[f"{_ALIASES.get(layer, layer)}.{param}"] = t
    return out


def load_backbone(model, path):
    """Loads a torchvision-named safetensors file into the backbone; an EngineError lists what does not fit."""
    state = _renamed(safetensors.read(path))
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in wanted and not k.startswith(_LEFT_OUT)]
    shapes = []
    ready = {}
    for k, t in state.items():
        if k not in wanted:
            continue
        w = wanted[k]
        if tuple(t.shape) != tuple(w.shape):
            if t.numel() != w.numel():
                shapes.append(f"{k}: the file has {list(t.shape)}, the network needs {list(w.shape)}")
                continue
            t = t.reshape(w.shape)  # a Linear stored as a convolution
        ready[k] = t.to(w.dtype)
    if missing or unexpected or shapes:
        lines = [
            f"{title} ({len(xs)}): " + ", ".join(xs[:8]) + (" …" if len(xs) > 8 else "")
            for title, xs in (
                ("missing from the file", missing),
                ("in the file but not in the network", unexpected),
                ("shapes that differ", shapes),
            )
            if xs
        ]
        raise EngineError(f"the weights in {path} do not fit torchvision's network: " + "; ".join(lines))
    model.load_state_dict(ready, strict=False)


_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "gelu": F.gelu,
    "elu": F.elu,
    "selu": F.selu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softmax": lambda x: F.softmax(x, dim=-1),
}


class Dense(nn.Linear):
    """A Linear with its activation, so the head's parameters are named by the plan's layer index."""

    def __init__(self, inputs, units, activation):
        super().__init__(inputs, units)
        self.activation = activation

    def forward(self, x):
        return _ACTIVATIONS[self.activation](super().forward(x))


def _dense(width, layer, gen):
    m = Dense(width, layer["units"], layer["activation"])
    # Glorot-uniform kernel and zero bias: TensorFlow.js' Dense defaults, which the tfjs engine uses.
    bound = math.sqrt(6 / (width + layer["units"]))
    with torch.no_grad():
        m.weight.uniform_(-bound, bound, generator=gen)
        m.bias.zero_()
    return m, layer["units"]


# The plan's head layers, by kind: each builds its module on `width` features and says how many it
# passes on. src/zoo/head-layers.ts is the table on tlr's side; the plan schema lists the kinds,
# and both engines' tests check they agree.
HEAD_LAYERS = {
    "dense": _dense,
    "dropout": lambda width, layer, gen: (nn.Dropout(layer["rate"]), width),
    "batchnorm": lambda width, layer, gen: (nn.BatchNorm1d(width, eps=1e-5, momentum=0.1), width),
}


class Head(nn.Module):
    """The plan's head: layers 0, 1, … as the plan lists them (saved as head.0.weight, …)."""

    def __init__(self, inputs, layers, seed):
        super().__init__()
        width = inputs
        gen = torch.Generator().manual_seed(seed)
        for i, layer in enumerate(layers):
            m, width = HEAD_LAYERS[layer["kind"]](width, layer, gen)
            self.add_module(str(i), m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x


class Net(nn.Module):
    def __init__(self, backbone_, head):
        super().__init__()
        self.backbone = backbone_
        self.head = head

    def forward(self, x):
        return self.head(torch.flatten(self.backbone(x), 1))

    def saved_state(self):
        """torchvision's names for the backbone, head.N.* for the head: the model file's keys."""
        out = {k: v for k, v in self.backbone.state_dict().items() if not k.endswith("num_batches_tracked")}
        out.update({f"head.{k}": v for k, v in self.head.state_dict().items() if not k.endswith("num_batches_tracked")})
        return out

    def load_saved(self, state, source):
        b = {k: v for k, v in state.items() if not k.startswith("head.")}
        h = {k[5:]: v for k, v in state.items() if k.startswith("head.")}
        for part, s in ((self.backbone, b), (self.head, h)):
            missing, unexpected = part.load_state_dict(s, strict=False)
            missing = [k for k in missing if not k.endswith("num_batches_tracked")]
            if missing or unexpected:
                raise EngineError(
                    f"{source} does not fit this run's network: missing {missing[:6]}, unexpected {unexpected[:6]}"
                )


def freeze(net, layers, count, batchnorm="update"):
    """Freezes the modules named by the zoo's first `count` layers: no gradients, and (see set_mode)
    eval mode; with `batchnorm` "keep", the backbone's BatchNorm layers that train stay in eval mode too."""
    frozen = set(layers[:count])
    names = set(layers)
    frozen_modules = []
    for name, m in net.backbone.named_modules():
        own = list(m.parameters(recurse=False))
        if own and name not in names:
            raise EngineError(
                f"torchvision's module {name} is not a layer of tlr's zoo network: the zoo and torchvision disagree (a"
                " bug in tlr)"
            )
        if name in frozen:
            frozen_modules.append(m)
        for p in own:
            p.requires_grad_(name not in frozen)
    for p in net.head.parameters():
        p.requires_grad_(True)
    net.frozen_modules = frozen_modules
    net.kept_batchnorm = (
        [m for m in net.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if batchnorm == "keep"
        else []
    )
    return sum(p.numel() for m in frozen_modules for p in m.parameters(recurse=False))


def set_mode(net, training):
    """Train mode for what trains; frozen modules (BatchNorm statistics, dropout) stay in eval mode, as in the tfjs
    engine."""
    net.train(training)
    for m in getattr(net, "frozen_modules", []) + getattr(net, "kept_batchnorm", []):
        m.eval()


def counts(net):
    trainable_backbone = sum(p.numel() for p in net.backbone.parameters() if p.requires_grad)
    head = sum(p.numel() for p in net.head.parameters())
    return trainable_backbone, head


class _GlobalStats:
    """BatchNorm whose training statistics are those of the global batch (every rank's shard), as
    one process would compute them: the mean, then the variance, each summed over ranks in a
    differentiable all-reduce on a process group of its own (DDP's gradient all-reduces use the
    default one). Eval mode is plain BatchNorm."""

    group = None

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        local = torch.tensor([x.numel() / max(x.shape[1], 1)], dtype=x.dtype, device=x.device)
        s = all_reduce(torch.cat([x.sum(dims), local]), group=self.group)
        n = s[-1].clamp(min=1)
        mean = s[:-1] / n
        d = x - mean.view(shape)
        var = all_reduce((d * d).sum(dims), group=self.group) / n
        with torch.no_grad():
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(mean.detach() * m)
            self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1).clamp(min=1)) * m)
            self.num_batches_tracked += 1
        return d / torch.sqrt(var + self.eps).view(shape) * self.weight.view(shape) + self.bias.view(shape)


class GlobalBatchNorm2d(_GlobalStats, nn.BatchNorm2d):
    pass


class GlobalBatchNorm1d(_GlobalStats, nn.BatchNorm1d):
    pass


def use_global_batchnorm(net, group):
    """Swaps every BatchNorm for one with global-batch statistics (same parameters and buffers, same names)."""
    _GlobalStats.group = group
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            cls = (
                GlobalBatchNorm2d
                if type(child) is nn.BatchNorm2d
                else GlobalBatchNorm1d if type(child) is nn.BatchNorm1d else None
            )
            if cls:
                child.__class__ = cls


def prefers_channels_last(backbone_module, device):
    """Whether a network trains channels-last here: a zoo graph (the MobileNets) on the CPU, where oneDNN's depthwise
    and pointwise convolutions run a training step of MobileNet V2 at batch 32 in 1.1 s against 2.0-2.5 s (0.41 against
    0.58 s at width 0.35, 1.3-1.6 against 1.8-2.0 s for MobileNet V1), measured on 2 cores. torchvision's ResNets and
    Inception ran level, VGG-16 10% slower, so they stay as they are; so does a GPU, where it was not measured."""
    return device.type == "cpu" and isinstance(backbone_module, GraphNet)


def for_inference(module):
    """`module` for a pass that only runs it (frozen, eval mode, no gradients): a copy with the zoo graph's BatchNorm
    folded into its convolutions (a quarter less work for a MobileNet); torchvision's networks as they are."""
    if not isinstance(module, GraphNet) and not any(isinstance(m, Segment) for m in module.modules()):
        return module
    c = copy.deepcopy(module).eval()
    graphs = [c] if isinstance(c, GraphNet) else [m._net[0] for m in c.modules() if isinstance(m, Segment)]
    for g in {id(g): g for g in graphs}.values():
        g.fold_batchnorm()
    # Channels-last: oneDNN's depthwise and pointwise convolutions run a MobileNet V2 35-40% faster on a CPU so
    # (150 against 108 images/s at width 1, measured on 2 cores); the copy is this pass's alone.
    return c.to(memory_format=torch.channels_last)


def _flatten(x):
    return torch.flatten(x, 1)


def _densenet_end(x):
    return torch.flatten(F.adaptive_avg_pool2d(F.relu(x), (1, 1)), 1)


def sequence(net_backbone, name):
    """The backbone's forward as named steps run one after another (the zoo's module names), or
    None where torchvision's forward is not such a chain (Inception). Splitting it at a step gives
    a frozen part whose output can be computed once."""
    b = net_backbone
    if isinstance(b, GraphNet):
        return b.segments()
    if name.startswith("resnet"):
        return [
            (n, getattr(b, n))
            for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool")
        ] + [("", _flatten)]
    if name.startswith("densenet"):
        return [(f"features.{n}", m) for n, m in b.features.named_children()] + [("", _densenet_end)]
    if name in ("vgg16", "vgg19", "alexnet"):
        return (
            [(f"features.{n}", m) for n, m in b.features.named_children()]
            + [("avgpool", b.avgpool), ("", _flatten)]
            + [(f"classifier.{n}", m) for n, m in b.classifier.named_children()]
        )
    return None


def frozen_steps(steps, frozen_names):
    """How many leading steps hold only frozen modules (a step without modules of its own, a flatten, follows its
    neighbours)."""
    count = 0
    for name, step in steps:
        if isinstance(step, nn.Module):
            own = [
                f"{name}.{n}" if n and name else n or name
                for n, m in step.named_modules()
                if list(m.parameters(recurse=False)) or isinstance(m, (nn.Dropout, nn.modules.batchnorm._BatchNorm))
            ]
            if any(n not in frozen_names for n in own):
                break
        count += 1
    return count


class Chain(nn.Module):
    """Steps of a sequence, then (optionally) the head: the trained part of a split stage."""

    def __init__(self, steps, head=None):
        super().__init__()
        self.names = [n for n, _ in steps]
        self.steps = nn.ModuleList([s if isinstance(s, nn.Module) else _Fn(s) for _, s in steps])
        self.head = head

    def forward(self, x):
        for s in self.steps:
            x = s(x)
        return self.head(torch.flatten(x, 1)) if self.head is not None else x


class _Fn(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)
