"""Networks torchvision does not have (the zoo's Keras MobileNets), built from the zoo's own graph:
job.json's `network.graph` lists the nodes up to the feature layer as tlr's zoo defines them
(src/zoo/arch, src/zoo/ops), so this module holds no architecture of its own. Each node with
weights is a module named as the zoo names the layer, so `freeze`, `lr LOW..HIGH` and the weights
file (converted to PyTorch layouts by tlr: src/runtime/weights/torchvision.ts) address the same
layers in both engines. Tensors are NCHW; the graph's shapes are [h, w, c]."""

import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import EngineError


def _same(size, k, s):
    """TensorFlow's 'same' padding along one axis: (before, after), the extra pixel after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _pads(op, shape):
    """[top, bottom, left, right] for a node's padding on an input of `shape` ([h, w, c])."""
    p = op["padding"]
    if p == "valid":
        return [0, 0, 0, 0]
    if p == "same":
        (kh, kw), (sh, sw) = op.get("kernel", op.get("pool")), op["strides"]
        return [*_same(shape[0], kh, sh), *_same(shape[1], kw, sw)]
    return list(p)


class _Conv(nn.Conv2d):
    """A convolution whose padding may be uneven (TensorFlow's 'same' at stride 2)."""

    def __init__(self, cin, cout, op, shape, groups=1):
        t, b, l, r = _pads(op, shape)
        even = t == b and l == r
        super().__init__(
            cin, cout, tuple(op["kernel"]), tuple(op["strides"]), (t, l) if even else 0, groups=groups, bias=op["bias"]
        )
        self.uneven = None if even else (l, r, t, b)

    def forward(self, x):
        return super().forward(F.pad(x, self.uneven) if self.uneven else x)


def _bn(op, shape):
    cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
    # Keras' momentum is the moving statistics' own share; PyTorch's is the batch's.
    return cls(shape[-1], eps=op["epsilon"], momentum=1 - op["momentum"])


def _pool(op, shape, inp):
    if op["kind"] == "maxpool" and op.get("ceil"):
        raise EngineError("a ceil-mode max pool in a zoo graph: the torch engine builds these from torchvision")
    t, b, l, r = _pads(op, inp)
    kind = op["kind"]
    pad_value = -math.inf if kind == "maxpool" else 0.0
    pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
    extra = {} if kind == "maxpool" else {"count_include_pad": op.get("countIncludePad", True)}
    if t == b and l == r:
        return lambda x: pool(x, tuple(op["pool"]), tuple(op["strides"]), (t, l), **extra)
    return lambda x: pool(F.pad(x, (l, r, t, b), value=pad_value), tuple(op["pool"]), tuple(op["strides"]), **extra)


def _flatten(order):
    if order == "hwc":
        return lambda x: torch.flatten(x.permute(0, 2, 3, 1), 1) if x.dim() == 4 else x
    return lambda x: torch.flatten(x, 1)


# What each op kind of the zoo (src/zoo/ops/index.ts's OPS) is here: a module (weights, or state
# such as dropout's) or a function of its inputs. Every kind the zoo has is a row; a test checks.
def _module(kind):
    return {
        "conv": lambda op, inp, shape: _Conv(inp[-1], op["filters"], op, inp),
        "depthwise": lambda op, inp, shape: _Conv(inp[-1], inp[-1], op, inp, groups=inp[-1]),
        "bn": lambda op, inp, shape: _bn(op, inp),
        "dense": lambda op, inp, shape: nn.Linear(inp[-1], op["units"], bias=op.get("bias", True)),
        "dropout": lambda op, inp, shape: nn.Dropout(op["rate"]),
    }.get(kind)


def _function(kind):
    return {
        "relu": lambda op, inp: F.relu,
        "relu6": lambda op, inp: F.relu6,
        "zeropad": lambda op, inp: (lambda x, p=op["padding"]: F.pad(x, (p[2], p[3], p[0], p[1]))),
        "maxpool": lambda op, inp: _pool(op, None, inp),
        "avgpool": lambda op, inp: _pool(op, None, inp),
        "adaptiveavg": lambda op, inp: (lambda x, s=op["size"]: F.adaptive_avg_pool2d(x, s)),
        "gap": lambda op, inp: (lambda x: x.mean((2, 3))),
        "flatten": lambda op, inp: _flatten(op.get("order", "chw")),
        "add": lambda op, inp: None,
        "concat": lambda op, inp: None,
    }.get(kind)


OP_KINDS = (
    "conv depthwise bn dense dropout relu relu6 zeropad maxpool avgpool adaptiveavg gap flatten add concat".split()
)


class GraphNet(nn.Module):
    """The zoo graph `graph` ({input, inputShape, output, nodes: [{name, op, inputs, shape}]}) as a module."""

    def __init__(self, graph):
        super().__init__()
        _check(graph)
        shapes = {graph["input"]: graph["inputShape"]}
        self._input, self._output, self._steps = graph["input"], graph["output"], []
        for n in graph["nodes"]:
            op, name = n["op"], n["name"]
            inp = shapes.get(n["inputs"][0]) if n["inputs"] else None
            make, fn = _module(op["kind"]), None
            if make:
                self.add_module(name, make(op, inp, n["shape"]))
            else:
                fn = _function(op["kind"])(op, inp)
            self._steps.append((name, op["kind"], tuple(n["inputs"]), fn))
            shapes[name] = n["shape"]
        self._last = _last_reads(self._steps)
        self._readers = {}
        for _name, _kind, inputs, _fn in self._steps:
            for k in inputs:
                self._readers[k] = self._readers.get(k, 0) + 1
        readers = self._readers
        # ReLU6 in place where its input has no other reader (a BatchNorm's output: its backward needs its input).
        self._steps = [
            (n, k, i, _relu6_ if k == "relu6" and readers.get(i[0]) == 1 and i[0] != self._input else f)
            for n, k, i, f in self._steps
        ]

    def fold_batchnorm(self):
        """For inference only (eval mode, no gradients): each BatchNorm that alone reads a convolution's output is
        folded into that convolution's weights and bias, and skipped. Call it on a copy: the weights change."""
        kinds, readers = {n: k for n, k, _i, _f in self._steps}, self._readers
        steps = []
        for name, kind, inputs, fn in self._steps:
            src = inputs[0] if inputs else None
            if kind == "bn" and kinds.get(src) in ("conv", "depthwise") and readers.get(src) == 1:
                _fold(getattr(self, src), getattr(self, name))
                fn = _identity
            steps.append((name, kind, inputs, fn))
        self._steps = steps
        return self

    def _compute(self, step, values):
        name, kind, inputs, fn = step
        xs = [values[i] for i in inputs]
        if kind == "add":
            return sum(xs[1:], xs[0])
        if kind == "concat":
            return torch.cat(xs, 1)
        return (fn or getattr(self, name))(xs[0])

    def run(self, values, start, end):
        """Runs steps [start, end) on `values` (name -> tensor), dropping what no later step reads."""
        last = self._last
        for i in range(start, end):
            values[self._steps[i][0]] = self._compute(self._steps[i], values)
            for k in [k for k in values if last.get(k, -1) <= i and k != self._steps[i][0]]:
                del values[k]
        return values

    def forward(self, x):
        return self.run({self._input: x}, 0, len(self._steps))[self._output]

    def segments(self):
        """The graph cut where one tensor alone flows on (a chain of segments: MobileNet V2's residual
        blocks stay whole), as (name, module) steps for network.sequence."""
        last = self._last
        cuts, prev = [], self._input
        for i, (name, *_rest) in enumerate(self._steps):
            live = [k for k, at in last.items() if at > i and _index(self._steps, k) <= i]
            if live == [name] or i == len(self._steps) - 1:
                cuts.append(Segment(self, len(cuts) and cuts[-1].end, i + 1, prev))
                prev = name
        return [("", s) for s in cuts]


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def _check(graph):
    """job.json's graph may come with a job folder from someone else: each node named as a zoo layer is (a module
    name PyTorch accepts, not one of nn.Module's own attributes), a known op kind, inputs from earlier nodes."""

    def bad(why):
        return EngineError(f"job.json's network graph {why}: it is not one tlr wrote; prepare the job again with tlr")

    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list) or not graph["nodes"]:
        raise bad("has no nodes")
    seen = {graph.get("input")}
    for i, n in enumerate(graph["nodes"]):
        name = n.get("name") if isinstance(n, dict) else None
        if not isinstance(name, str) or not _NAME.match(name) or hasattr(nn.Module, name) or name in seen:
            raise bad(f"has a node {i} named {str(name)[:40]!r}, not a layer name")
        kind = n.get("op", {}).get("kind") if isinstance(n.get("op"), dict) else None
        if kind not in OP_KINDS:
            raise bad(f"has a {str(kind)[:40]!r} node ({name}), which this engine does not build")
        if not isinstance(n.get("inputs"), list) or not all(isinstance(k, str) and k in seen for k in n["inputs"]):
            raise bad(f"has node {name} reading what no earlier node gives")
        seen.add(name)
    if graph.get("output") not in seen:
        raise bad("has no node for its output")


def _identity(x):
    return x


def _relu6_(x):
    return F.relu6(x, inplace=True)


@torch.no_grad()
def _fold(conv, bn):
    """conv's weights and bias made to compute bn(conv(x)) in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


def _index(steps, name):
    return next((i for i, s in enumerate(steps) if s[0] == name), -1)


def _last_reads(steps):
    """name -> the index of the last step that reads it (the graph's input is -1's output)."""
    last = {}
    for i, (_name, _kind, inputs, _fn) in enumerate(steps):
        for k in inputs:
            last[k] = i
    return last


class Segment(nn.Module):
    """Steps [start, end) of a GraphNet, fed the output of the node before them; its modules keep
    their zoo names, so freezing finds them."""

    def __init__(self, net, start, end, source):
        super().__init__()
        self.start, self.end, self.source = start, end, source
        self._net = [net]  # a list, so the whole network is not registered as a child
        for name, *_rest in net._steps[start:end]:
            if name in net._modules:
                self.add_module(name, net._modules[name])

    def forward(self, x):
        net = self._net[0]
        return net.run({self.source: x}, self.start, self.end)[net._steps[self.end - 1][0]]
