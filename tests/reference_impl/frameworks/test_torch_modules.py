"""Module and Sequential versions of the three-layer convnet: same scores as the barebones net and NumPy."""
import os

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch_helpers import mean_bound, std_ratio_bounds

from reference_impl.frameworks.numpy_net import three_layer_convnet_scores
from reference_impl.frameworks.torch_barebones import three_layer_convnet
from reference_impl.frameworks.torch_modules import ThreeLayerConvNet
from reference_impl.frameworks.torch_sequential import nesterov_sgd, sequential_convnet


def layer_weights(conv1, conv2, fc):
    """The barebones parameter list of a net's three layers (nn.Linear stores fc_w transposed)."""
    return [conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight.t(), fc.bias]


def load_numpy_params(conv1, conv2, fc, params):
    with torch.no_grad():
        for param, value in zip([conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias],
                                [params[0], params[1], params[2], params[3], params[4].T, params[5]]):
            assert tuple(param.shape) == value.shape, f"{tuple(param.shape)} != {value.shape}"
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def numpy_params(rng, C, H, W, F1, F2, classes):
    shapes = [(F1, C, 5, 5), (F1,), (F2, F1, 3, 3), (F2,), (F2 * H * W, classes), (classes,)]
    return [rng.standard_normal(s) * 0.3 for s in shapes]


def build(kind, C, H, W, F1, F2, classes):
    if kind == "module":
        net = ThreeLayerConvNet(C, F1, F2, classes, image_size=(H, W))
        return net, (net.conv1, net.conv2, net.fc)
    net = sequential_convnet(C, F1, F2, classes, image_size=(H, W))
    assert [type(layer) for layer in net] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.Flatten, nn.Linear]
    return net, (net[0], net[2], net[5])


@pytest.mark.parametrize("kind", ["module", "sequential"])
@pytest.mark.parametrize("N, C, H, W, F1, F2, classes", [(3, 3, 32, 32, 16, 32, 10), (2, 2, 9, 6, 4, 3, 5)])
def test_scores_equal_numpy_reference_with_its_weights(kind, N, C, H, W, F1, F2, classes):
    rng = np.random.default_rng(21)
    params = numpy_params(rng, C, H, W, F1, F2, classes)
    x = rng.standard_normal((N, C, H, W))
    net, layers = build(kind, C, H, W, F1, F2, classes)
    net.double()
    load_numpy_params(*layers, params)
    expected = three_layer_convnet_scores(x, params)
    with torch.no_grad():
        scores = net(torch.from_numpy(x)).numpy()
        barebones = three_layer_convnet(torch.from_numpy(x), layer_weights(*layers)).numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(scores, barebones, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("kind", ["module", "sequential"])
def test_initialisation_is_kaiming_normal_with_zero_biases(kind):
    seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)
    net, layers = build(kind, 3, 32, 32, 64, 32, 10)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    fan_ins = [3 * 5 * 5, 64 * 3 * 3, 32 * 32 * 32]
    num_checks = 2 * len(layers)
    for layer, fan_in in zip(layers, fan_ins):
        values = layer.weight.detach().double().numpy().ravel()
        sigma = np.sqrt(2.0 / fan_in)
        low, high = std_ratio_bounds(values.size, num_checks)
        ratio = np.sqrt(np.mean(values ** 2)) / sigma
        assert low < ratio < high, f"seed {seed}, {layer}: std / sqrt(2/fan_in) = {ratio:.4f}"
        assert abs(values.mean()) / sigma < mean_bound(values.size, num_checks), f"seed {seed}, {layer}: mean"
        assert not layer.bias.detach().any(), f"{layer}: biases must start at zero"


def test_nesterov_sgd_settings_and_one_step_by_hand():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    optimizer = nesterov_sgd([w], learning_rate=0.1)
    assert isinstance(optimizer, torch.optim.SGD)
    group = optimizer.param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"] and group["lr"] == 0.1
    # Loss 0.5 * |w|^2, so the gradient is w. Nesterov momentum: v = 0.9 v + g; w -= lr * (g + 0.9 v).
    v = np.zeros(2)
    w_np = np.array([1.0, -2.0])
    for _ in range(3):
        optimizer.zero_grad()
        (0.5 * (w ** 2).sum()).backward()
        optimizer.step()
        g = w_np.copy()
        v = 0.9 * v + g
        w_np = w_np - 0.1 * (g + 0.9 * v)
    np.testing.assert_allclose(w.detach().numpy(), w_np, rtol=1e-6)
