"""Barebones PyTorch three-layer convnet, checked against the kit's NumPy layers (numpy_net)."""
import os

import numpy as np
import pytest
import torch
from torch_helpers import mean_bound, std_ratio_bounds

from reference_impl.frameworks.numpy_net import three_layer_convnet_scores, three_layer_convnet_sgd_step
from reference_impl.frameworks.torch_barebones import (flatten, random_weight, three_layer_convnet,
                                                       three_layer_convnet_init, train_step, zero_weight)


def random_params(rng, C, H, W, F1, F2, classes, k1=(5, 5), k2=(3, 3), dtype=np.float64):
    H2 = H + 4 - k1[0] + 1 + 2 - k2[0] + 1
    W2 = W + 4 - k1[1] + 1 + 2 - k2[1] + 1
    shapes = [(F1, C) + k1, (F1,), (F2, F1) + k2, (F2,), (F2 * H2 * W2, classes), (classes,)]
    return [(rng.standard_normal(s) * 0.3).astype(dtype) for s in shapes]


def test_flatten_keeps_row_major_order():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    flat = flatten(x)
    assert flat.shape == (2, 60)
    np.testing.assert_array_equal(flat.numpy(), x.numpy().reshape(2, 60))  # NumPy's C order, independently
    assert flatten(torch.zeros(7, 4)).shape == (7, 4)


def test_seed_shape_check_scores_are_64_by_10():
    # The seed's test: zero weights, 64 images of 32x32x3, channel_1 6 and channel_2 9 -> scores (64, 10).
    params = [torch.zeros(6, 3, 5, 5), torch.zeros(6), torch.zeros(9, 6, 3, 3), torch.zeros(9),
              torch.zeros(9 * 32 * 32, 10), torch.zeros(10)]
    scores = three_layer_convnet(torch.zeros(64, 3, 32, 32), params)
    assert scores.shape == (64, 10)


@pytest.mark.parametrize("N, C, H, W, F1, F2, classes, k1, k2", [
    (4, 3, 32, 32, 6, 9, 10, (5, 5), (3, 3)),
    (3, 2, 7, 11, 4, 5, 3, (5, 5), (3, 3)),  # non-square images
    (2, 1, 6, 8, 3, 2, 4, (3, 5), (1, 3)),  # other, non-square filters change the fc input size
])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_forward_matches_numpy_layers(N, C, H, W, F1, F2, classes, k1, k2, dtype, rtol):
    rng = np.random.default_rng(11)
    params = random_params(rng, C, H, W, F1, F2, classes, k1, k2, dtype)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    expected = three_layer_convnet_scores(x.astype(np.float64), [p.astype(np.float64) for p in params])
    scores = three_layer_convnet(torch.from_numpy(x), [torch.from_numpy(p) for p in params])
    assert scores.shape == (N, classes) and scores.dtype == torch.from_numpy(x).dtype
    # float32: about 1e-7 relative per operation over sums of a few hundred terms; measured error ~1e-6.
    np.testing.assert_allclose(scores.numpy(), expected, rtol=rtol, atol=rtol * np.abs(expected).max())


# Kaiming std: each weight tensor is checked for std and mean, every one at FALSE_ALARM / NUM_CHECKS.
KAIMING_SHAPES = [((64, 3, 5, 5), 75), ((16, 32, 3, 3), 288), ((4096, 10), 4096), ((300, 200), 300)]
NUM_CHECKS = 2 * len(KAIMING_SHAPES)


def test_random_weight_has_kaiming_std_zero_mean_and_tracks_gradients():
    seed = int.from_bytes(os.urandom(4), "little")  # not fixed: the bound is what makes this test reliable
    torch.manual_seed(seed)
    for shape, fan_in in KAIMING_SHAPES:
        w = random_weight(shape)
        assert tuple(w.shape) == shape and w.dtype == torch.float32 and w.requires_grad and w.is_leaf
        values = w.detach().double().numpy().ravel()
        sigma = np.sqrt(2.0 / fan_in)
        low, high = std_ratio_bounds(values.size, NUM_CHECKS)
        ratio = np.sqrt(np.mean(values ** 2)) / sigma
        assert low < ratio < high, f"seed {seed}, {shape}: std / sqrt(2/fan_in) = {ratio:.4f}, not in ({low:.4f}, {high:.4f})"
        assert abs(values.mean()) / sigma < mean_bound(values.size, NUM_CHECKS), f"seed {seed}, {shape}: mean"


def test_random_weight_rejects_other_ranks_and_honours_dtype():
    with pytest.raises(ValueError, match="random_weight"):
        random_weight((3, 4, 5))
    assert random_weight((5, 4), dtype=torch.float64).dtype == torch.float64


def test_zero_weight_and_init_shapes():
    b = zero_weight((7,))
    assert b.requires_grad and b.dtype == torch.float32 and not b.detach().any()
    params = three_layer_convnet_init(input_dim=(3, 12, 10), channel_1=8, channel_2=6, num_classes=5)
    shapes = [tuple(p.shape) for p in params]
    assert shapes == [(8, 3, 5, 5), (8,), (6, 8, 3, 3), (6,), (6 * 12 * 10, 5), (5,)]
    assert all(p.requires_grad and p.is_leaf and p.dtype == torch.float32 for p in params)
    for bias in params[1::2]:
        assert not bias.detach().any()
    assert three_layer_convnet(torch.zeros(2, 3, 12, 10), params).shape == (2, 5)
    default = three_layer_convnet_init()  # the seed's net: 32 5x5 filters, 16 3x3 filters, 10 classes
    assert [tuple(p.shape) for p in default] == [(32, 3, 5, 5), (32,), (16, 32, 3, 3), (16,), (16 * 32 * 32, 10),
                                                 (10,)]


def test_train_step_equals_the_numpy_sgd_step():
    rng = np.random.default_rng(12)
    params_np = random_params(rng, 3, 8, 6, 4, 5, 7)
    x = rng.standard_normal((5, 3, 8, 6))
    y = rng.integers(0, 7, size=5)
    expected_loss, expected = three_layer_convnet_sgd_step(x, y, params_np, 0.05)
    params = [torch.tensor(p, requires_grad=True) for p in params_np]
    loss = train_step(three_layer_convnet, params, torch.from_numpy(x), torch.from_numpy(y), 0.05)
    assert isinstance(loss, float) and abs(loss - expected_loss) < 1e-10
    for name, got, want in zip(("conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"), params, expected):
        assert got.is_leaf and got.requires_grad, f"{name} is no longer a trainable leaf"
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-12, err_msg=name)
        assert got.grad is not None and not got.grad.any(), f"{name}: gradient not reset after the step"
    # A second step starts from zeroed gradients: it equals the NumPy step from the updated parameters.
    _, expected_2 = three_layer_convnet_sgd_step(x, y, expected, 0.05)
    train_step(three_layer_convnet, params, torch.from_numpy(x), torch.from_numpy(y), 0.05)
    for got, want in zip(params, expected_2):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-12)
