"""A features pass on the CPU runs its forward in calls whose largest activation stays under 32 MB."""
import torch

from tlr_torch.features import calls, images_per_call


def _net(channels):
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, channels, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1)
    )


def test_calls_keep_the_largest_activation_under_32_mb():
    net = _net(64).eval()
    # 64 x 224 x 224 floats: 12.8 MB an image, so 2 a call; a small network takes the whole batch.
    with torch.no_grad():
        assert images_per_call(net, 224, torch.device("cpu"), 32) == 2
        assert images_per_call(_net(4).eval(), 32, torch.device("cpu"), 32) == 32
    # One image whose activation alone is larger still runs, one at a time.
    with torch.no_grad():
        assert images_per_call(_net(256).eval(), 224, torch.device("cpu"), 32) == 1


def test_outputs_in_calls_equal_one_call():
    torch.manual_seed(0)
    net = _net(64).eval()
    x = torch.randn(7, 3, 64, 64)
    with torch.no_grad():
        whole = net(x)
        parts = torch.cat([net(p) for p in x.split(images_per_call(net, 224, torch.device("cpu"), 7))])
    assert torch.allclose(whole, parts, atol=1e-6)


def test_a_network_in_training_mode_keeps_its_batch_and_its_statistics():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.BatchNorm2d(64)).train()
    before = net[1].running_mean.clone()
    with torch.no_grad():
        assert images_per_call(net, 224, torch.device("cpu"), 32) == 32
    assert torch.equal(net[1].running_mean, before)


def test_a_batch_goes_in_as_few_calls_as_it_takes_evened_out():
    sizes = lambda n, per: [len(p) for p in calls(torch.zeros((n, 1)), per)]  # noqa: E731
    assert sizes(32, 6) == [6, 6, 5, 5, 5, 5]
    assert sizes(32, 32) == [32]
    assert sizes(3, 6) == [3]
    assert sizes(7, 1) == [1] * 7
    assert sizes(0, 6) == [0]
    # The rows come back in order.
    x = torch.arange(32.0)[:, None]
    assert torch.equal(torch.cat(calls(x, 6)), x)
