"""Spatial batchnorm and group normalisation: published statistics, loops, numeric gradients, PyTorch."""
import copy

import numpy as np
import pytest

from reference_impl.gradient_check import eval_numerical_gradient_array, rel_error
from reference_impl.spatial_norm import (spatial_batchnorm_backward, spatial_batchnorm_forward,
                                         spatial_groupnorm_backward, spatial_groupnorm_forward)


def per_channel_stats(a):
    return a.mean(axis=(0, 2, 3)), a.std(axis=(0, 2, 3))


def test_spatial_batchnorm_train_statistics_match_published_figures(rng):
    x = 4 * rng.standard_normal((2, 3, 4, 5)) + 10
    out, _ = spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    means, stds = per_channel_stats(out)
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_allclose(means, 0, atol=1e-12)  # published ~1e-16
    np.testing.assert_allclose(stds, 1, atol=1e-5)  # published ~0.9999997 (eps)
    out, _ = spatial_batchnorm_forward(x, np.asarray([3, 4, 5]), np.asarray([6, 7, 8]), {"mode": "train"})
    means, stds = per_channel_stats(out)
    np.testing.assert_allclose(means, [6, 7, 8], rtol=1e-12)
    np.testing.assert_allclose(stds, [3, 4, 5], rtol=1e-5)


def test_spatial_batchnorm_test_mode_after_warm_up_matches_published_figures():
    """50 training passes on data ~ N(13, 2.3^2), then one test pass: means within 0.1, stds within 0.05.

    The bounds are the published ones; they are tight for this fixture (about 7% of seeds exceed them by
    sampling noise alone). Seed 231 lands at max |mean| 0.061 and max |std - 1| 0.034. The running statistics
    are also checked against their expected values, which do not depend on luck.
    """
    rng = np.random.default_rng(231)
    N, C, H, W = 10, 4, 11, 12
    bn_param = {"mode": "train"}
    for _ in range(50):
        spatial_batchnorm_forward(2.3 * rng.standard_normal((N, C, H, W)) + 13, np.ones(C), np.zeros(C), bn_param)
    warm = 1 - 0.9 ** 50  # weight the zero initial value still holds back
    np.testing.assert_allclose(bn_param["running_mean"], 13 * warm, atol=0.05)
    np.testing.assert_allclose(bn_param["running_var"], 2.3 ** 2 * warm, rtol=0.05)
    bn_param["mode"] = "test"
    out, _ = spatial_batchnorm_forward(2.3 * rng.standard_normal((N, C, H, W)) + 13, np.ones(C), np.zeros(C),
                                       bn_param)
    means, stds = per_channel_stats(out)
    assert np.all(np.abs(means) < 0.1), means
    assert np.all(np.abs(stds - 1) < 0.05), stds


def test_spatial_batchnorm_matches_channel_by_channel_loop(rng):
    """Catches the reshape-without-transpose bug: each channel is normalised over its own N*H*W values."""
    x = rng.standard_normal((3, 4, 2, 5)) * np.arange(1, 5)[None, :, None, None] + np.arange(4)[None, :, None, None]
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    bn_param = {"mode": "train", "eps": 1e-5}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    for c in range(4):
        values = x[:, c]
        expected = gamma[c] * (values - values.mean()) / np.sqrt(values.var() + 1e-5) + beta[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-10, atol=1e-12)
        assert bn_param["running_mean"][c] == pytest.approx(0.1 * values.mean())
        assert bn_param["running_var"][c] == pytest.approx(0.1 * values.var())
    test_param = {"mode": "test", "running_mean": np.arange(4.0), "running_var": np.arange(1.0, 5.0)}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, test_param)
    for c in range(4):
        expected = gamma[c] * (x[:, c] - c) / np.sqrt(c + 1 + 1e-5) + beta[c]
        np.testing.assert_allclose(out[:, c], expected, rtol=1e-10, atol=1e-12)


def test_spatial_groupnorm_matches_group_by_group_loop(rng):
    x = rng.standard_normal((2, 6, 3, 4)) * 3 + 1
    gamma, beta = rng.standard_normal((1, 6, 1, 1)), rng.standard_normal((1, 6, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, 3, {"eps": 1e-5})
    for n in range(2):
        for g in range(3):
            values = x[n, 2 * g:2 * g + 2]  # the group's 2 channels and all their pixels
            normalised = (values - values.mean()) / np.sqrt(values.var() + 1e-5)
            expected = gamma[0, 2 * g:2 * g + 2] * normalised + beta[0, 2 * g:2 * g + 2]
            np.testing.assert_allclose(out[n, 2 * g:2 * g + 2], expected, rtol=1e-10, atol=1e-12)


def test_spatial_groupnorm_default_eps_is_1e_5(rng):
    x = rng.standard_normal((2, 4, 3, 3))
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    np.testing.assert_array_equal(spatial_groupnorm_forward(x, ones, zeros, 2, {})[0],
                                  spatial_groupnorm_forward(x, ones, zeros, 2, {"eps": 1e-5})[0])


def published_backward_errors(forward, backward, x, gamma, beta, params):
    dout = np.random.RandomState(7).randn(*x.shape)
    numeric = [eval_numerical_gradient_array(lambda v, k=k: forward(*[v if i == k else a for i, a in
                                                                       enumerate((x, gamma, beta))],
                                                                     *copy.deepcopy(params))[0],
                                             a.copy(), dout)
               for k, a in enumerate((x, gamma, beta))]
    _, cache = forward(x, gamma, beta, *copy.deepcopy(params))
    return [rel_error(mine, num) for mine, num in zip(backward(dout, cache), numeric)]


def test_spatial_batchnorm_backward_matches_published_orders_of_magnitude():
    legacy = np.random.RandomState(231)
    x = 5 * legacy.randn(2, 3, 4, 5) + 12
    gamma, beta = legacy.randn(3), legacy.randn(3)
    dx_error, dgamma_error, dbeta_error = published_backward_errors(
        spatial_batchnorm_forward, spatial_batchnorm_backward, x, gamma, beta, ({"mode": "train"},))
    assert dx_error < 1e-6  # published ~3e-7 (and 1.3e-8 in another run)
    assert dgamma_error < 1e-9 and dbeta_error < 1e-9  # published ~1e-11


def test_spatial_groupnorm_backward_matches_published_orders_of_magnitude():
    legacy = np.random.RandomState(231)
    x = 5 * legacy.randn(2, 6, 4, 5) + 12
    gamma, beta = legacy.randn(1, 6, 1, 1), legacy.randn(1, 6, 1, 1)
    dx_error, dgamma_error, dbeta_error = published_backward_errors(
        spatial_groupnorm_forward, spatial_groupnorm_backward, x, gamma, beta, (2, {}))
    assert dx_error < 1e-6  # published ~7e-8
    assert dgamma_error < 1e-9 and dbeta_error < 1e-9  # published ~1e-11


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 1, 3)])
def test_spatial_batchnorm_backward_matches_numeric_gradient(mode, shape, rng, backward_errors):
    x = 3 * rng.standard_normal(shape) + 2
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    bn_param = {"mode": mode, "running_mean": rng.standard_normal(C), "running_var": rng.random(C) + 0.5}
    errors = backward_errors(spatial_batchnorm_forward, spatial_batchnorm_backward, (x, gamma, beta),
                             (bn_param,), rng=rng)
    assert max(errors) < 1e-6, errors


@pytest.mark.parametrize("shape, G", [((2, 6, 3, 4), 2), ((2, 6, 3, 4), 6), ((3, 4, 2, 3), 1), ((1, 4, 5, 1), 4)])
def test_spatial_groupnorm_backward_matches_numeric_gradient(shape, G, rng, backward_errors):
    x = 3 * rng.standard_normal(shape) + 2
    gamma, beta = rng.standard_normal((1, shape[1], 1, 1)), rng.standard_normal((1, shape[1], 1, 1))
    errors = backward_errors(spatial_groupnorm_forward, spatial_groupnorm_backward, (x, gamma, beta),
                             (G, {}), rng=rng)
    assert max(errors) < 1e-6, errors


def test_spatial_batchnorm_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x, gamma, beta = rng.standard_normal((3, 4, 2, 5)) + 1, rng.standard_normal(4), rng.standard_normal(4)
    out, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dout = rng.standard_normal(x.shape)
    grads = spatial_batchnorm_backward(dout, cache)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    t_out = torch.nn.functional.batch_norm(tensors[0], None, None, tensors[1], tensors[2], training=True,
                                           eps=1e-5)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, tensor in zip(grads, tensors):
        np.testing.assert_allclose(mine, tensor.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_spatial_groupnorm_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 6, 2, 5)) + 1
    gamma, beta = rng.standard_normal((1, 6, 1, 1)), rng.standard_normal((1, 6, 1, 1))
    out, cache = spatial_groupnorm_forward(x, gamma, beta, 3, {"eps": 1e-5})
    dout = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma.reshape(6), beta.reshape(6)))
    t_out = torch.nn.functional.group_norm(tx, 3, tg, tb, eps=1e-5)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma.reshape(6), tg.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dbeta.reshape(6), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


LAYERS = {
    "batchnorm": (spatial_batchnorm_forward, spatial_batchnorm_backward, (3,), lambda: ({"mode": "train"},)),
    "groupnorm": (spatial_groupnorm_forward, spatial_groupnorm_backward, (1, 3, 1, 1), lambda: (3, {})),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_inputs_and_cache_are_not_modified(name, rng, unchanged):
    snapshot, assert_unchanged = unchanged
    forward, backward, param_shape, make_params = LAYERS[name]
    x, gamma, beta = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal(param_shape), rng.standard_normal(
        param_shape)
    params = make_params()
    before = snapshot((x, gamma, beta))
    out, cache = forward(x, gamma, beta, *params)
    assert_unchanged(before, (x, gamma, beta))
    assert params[-1].keys() <= {"mode", "running_mean", "running_var"}
    dout = rng.standard_normal(out.shape)
    before = snapshot((dout, cache))
    backward(dout, cache)
    assert_unchanged(before, (dout, cache))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_float32_stays_float32(name, rng):
    forward, backward, param_shape, make_params = LAYERS[name]
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    gamma, beta = np.ones(param_shape, np.float32), np.zeros(param_shape, np.float32)
    out, cache = forward(x, gamma, beta, *make_params())
    assert out.dtype == np.float32
    assert [g.dtype for g in backward(np.ones_like(out), cache)] == [np.float32] * 3


@pytest.mark.parametrize("call, message", [
    (lambda: spatial_batchnorm_forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), {"mode": "train"}),
     r"x \(N, C, H, W\).*\(2, 3, 4\)"),
    (lambda: spatial_batchnorm_forward(np.zeros((2, 3, 4, 4)), np.ones(4), np.zeros(3), {"mode": "train"}),
     r"gamma \(C,\).*\(4,\)"),
    (lambda: spatial_batchnorm_forward(np.zeros((2, 3, 4, 4)), np.ones(3), np.zeros(3), {"mode": "Train"}),
     "'train' or 'test'; got 'Train'"),
    (lambda: spatial_groupnorm_forward(np.zeros((2, 6, 2, 2)), np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 4,
                                       {}), "dividing the 6 channels; got G=4"),
    (lambda: spatial_groupnorm_forward(np.zeros((2, 6, 2, 2)), np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 0,
                                       {}), "got G=0"),
    (lambda: spatial_groupnorm_forward(np.zeros((2, 6, 2, 2)), np.ones(6), np.zeros(6), 3, {}),
     r"shape \(1, 6, 1, 1\); got \(6,\)"),
    (lambda: spatial_groupnorm_forward(np.zeros((6, 2, 2)), np.ones(6), np.zeros(6), 3, {}),
     r"\(N, C, H, W\); got shape \(6, 2, 2\)"),
])
def test_invalid_inputs_raise_specific_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
