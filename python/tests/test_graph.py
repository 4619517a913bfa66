"""The zoo-graph builder (graph.py): TensorFlow's 'same' padding, module names, and where a graph
may be cut for a frozen part computed once."""

import torch

from tlr_torch.graph import GraphNet, _same
from tlr_torch.network import frozen_steps, sequence


def test_same_padding_is_tensorflows_extra_pixel_after():
    # 224 at stride 2 with a 3x3 kernel: 111 + 3 - 224 = 1 pixel in all, after (TensorFlow), not before.
    assert _same(224, 3, 2) == (0, 1)
    assert _same(7, 3, 1) == (1, 1)
    assert _same(5, 1, 1) == (0, 0)
    assert _same(6, 3, 2) == (0, 1)
    assert _same(5, 3, 2) == (1, 1)


def _node(name, op, inputs, shape):
    return {"name": name, "op": op, "inputs": inputs, "shape": shape}


def _conv(filters, stride=1):
    return {
        "kind": "conv",
        "filters": filters,
        "kernel": [3, 3],
        "strides": [stride, stride],
        "padding": "same",
        "bias": False,
    }


# in -> a (conv) -> b (bn) -> r (relu) -> c (conv) -> s = r + c -> g (gap): a residual block after a chain.
GRAPH = {
    "input": "in",
    "inputShape": [8, 8, 3],
    "output": "g",
    "nodes": [
        _node("a", _conv(4, 2), ["in"], [4, 4, 4]),
        _node("b", {"kind": "bn", "epsilon": 1e-3, "momentum": 0.99}, ["a"], [4, 4, 4]),
        _node("r", {"kind": "relu6"}, ["b"], [4, 4, 4]),
        _node("c", _conv(4), ["r"], [4, 4, 4]),
        _node("s", {"kind": "add"}, ["r", "c"], [4, 4, 4]),
        _node("g", {"kind": "gap"}, ["s"], [4]),
    ],
}


def test_modules_take_the_zoo_names_and_keras_momentum_is_turned_round():
    net = GraphNet(GRAPH)
    assert sorted(n for n, _ in net.named_children()) == ["a", "b", "c"]
    assert abs(net.b.momentum - 0.01) < 1e-9 and net.b.eps == 1e-3
    assert net.a.uneven == (0, 1, 0, 1)  # stride 2 at 8: TensorFlow pads one pixel after
    assert net.c.uneven is None and net.c.padding == (1, 1)


def test_forward_computes_the_residual_sum_and_drops_what_no_later_step_reads():
    torch.manual_seed(0)
    net = GraphNet(GRAPH).eval()
    x = torch.randn(2, 3, 8, 8)
    r = torch.nn.functional.relu6(net.b(net.a(x)))
    want = (r + net.c(r)).mean((2, 3))
    assert torch.allclose(net(x), want, atol=1e-6)
    values = net.run({"in": x}, 0, 3)
    assert sorted(values) == ["r"]  # a, b and the input are read by no later step


def test_cut_points_keep_a_residual_block_whole_and_segments_chain_to_the_same_output():
    net = GraphNet(GRAPH).eval()
    steps = sequence(net, "anything")
    # Cuts after a, b and r (one tensor flows on), none after c (r is still read by s), then after s and g.
    assert [sorted(n for n, _ in s.named_children()) for _, s in steps] == [["a"], ["b"], [], ["c"], []]
    x = torch.randn(1, 3, 8, 8)
    y = x
    for _, s in steps:
        y = s(y)
    assert torch.allclose(y, net(x), atol=1e-6)
    assert frozen_steps(steps, {"a", "b"}) == 3  # the relu step has no modules: it follows its neighbours
    assert frozen_steps(steps, {"a"}) == 1


def test_a_graph_from_someone_else_is_refused_clearly():
    import copy

    import pytest

    from tlr_torch.errors import EngineError

    for change, words in [
        (lambda g: g["nodes"][0].update(name="__class__"), "not a layer name"),
        (lambda g: g["nodes"][0].update(name="a.b"), "not a layer name"),
        (lambda g: g["nodes"][1]["op"].update(kind="eval"), "'eval' node"),
        (lambda g: g["nodes"][3].update(inputs=["later"]), "reading what no earlier node gives"),
        (lambda g: g.update(output="nowhere"), "no node for its output"),
    ]:
        g = copy.deepcopy(GRAPH)
        change(g)
        with pytest.raises(EngineError, match=words):
            GraphNet(g)


def test_zoo_graphs_train_channels_last_on_the_cpu_to_the_same_weights():
    import copy

    import torchvision

    from tlr_torch.network import prefers_channels_last

    cpu = torch.device("cpu")
    assert prefers_channels_last(GraphNet(GRAPH), cpu)
    assert not prefers_channels_last(GraphNet(GRAPH), torch.device("cuda"))
    assert not prefers_channels_last(torchvision.models.resnet18(), cpu)
    # One training step each way (BatchNorm in training mode, a residual sum, ReLU6 in place): the same weights.
    torch.manual_seed(0)
    plain = GraphNet(GRAPH).train()
    last = copy.deepcopy(plain).to(memory_format=torch.channels_last)
    assert last.a.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 8, 8)
    for net, inputs in [(plain, x), (last, x.contiguous(memory_format=torch.channels_last))]:
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        net(inputs).square().sum().backward()
        opt.step()
    for (name, p), q in zip(plain.named_parameters(), last.parameters()):
        assert torch.allclose(p, q, atol=1e-5), name
    assert torch.allclose(plain.b.running_var, last.b.running_var, atol=1e-6)
