"""Fully connected layers: numeric gradients, batchnorm statistics, dropout semantics, purity, dtypes."""
import copy

import numpy as np
import pytest

from reference_impl.fc_layers import (affine_backward, affine_forward, batchnorm_backward, batchnorm_backward_alt,
                                      batchnorm_forward, dropout_backward, dropout_forward, layernorm_backward,
                                      layernorm_forward, relu_backward, relu_forward)
from reference_impl.gradient_check import rel_error


def test_affine_forward_matches_einsum(rng):
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((8, 5)), rng.standard_normal(5)
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("nd,dm->nm", x.reshape(3, 8), w) + b, rtol=1e-12)


def test_affine_backward_matches_numeric_gradient(rng, backward_errors):
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((8, 5)), rng.standard_normal(5)
    assert max(backward_errors(affine_forward, affine_backward, (x, w, b), rng=rng)) < 1e-8


def test_relu_forward_and_backward(rng, backward_errors):
    x = rng.standard_normal((4, 6))
    out, _ = relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    assert backward_errors(relu_forward, relu_backward, (x,), rng=rng)[0] < 1e-8


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_matches_numeric_gradient(backward, mode, rng, backward_errors):
    x = 3 * rng.standard_normal((6, 4)) + 2
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    bn_param = {"mode": mode, "running_mean": rng.standard_normal(4), "running_var": rng.random(4) + 0.5}
    errors = backward_errors(batchnorm_forward, backward, (x, gamma, beta), (bn_param,), rng=rng)
    assert max(errors) < 1e-7, errors


def test_batchnorm_backward_and_alt_agree(rng):
    x, dout = rng.standard_normal((10, 5)), rng.standard_normal((10, 5))
    _, cache = batchnorm_forward(x, rng.standard_normal(5), rng.standard_normal(5), {"mode": "train"})
    for graph, closed in zip(batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache)):
        assert rel_error(graph, closed) < 1e-10


def test_batchnorm_train_normalises_each_feature(rng):
    x = 4 * rng.standard_normal((50, 3)) + 10
    gamma, beta = np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-4)  # eps shrinks the std a little


def test_batchnorm_running_statistics_follow_momentum_rule(rng):
    momentum, eps = 0.8, 1e-5
    bn_param = {"mode": "train", "momentum": momentum, "eps": eps}
    expected_mean, expected_var = np.zeros(3), np.zeros(3)
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(4):
        x = rng.standard_normal((7, 3)) * 2 + 5
        batchnorm_forward(x, gamma, beta, bn_param)
        # Independent update: biased batch variance written out by hand.
        batch_mean = x.sum(axis=0) / 7
        batch_var = ((x - batch_mean) ** 2).sum(axis=0) / 7
        expected_mean = momentum * expected_mean + (1 - momentum) * batch_mean
        expected_var = momentum * expected_var + (1 - momentum) * batch_var
        np.testing.assert_allclose(bn_param["running_mean"], expected_mean, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], expected_var, rtol=1e-12)
    x = rng.standard_normal((5, 3))
    out, _ = batchnorm_forward(x, gamma * 2, beta + 1, {**bn_param, "mode": "test"})
    np.testing.assert_allclose(out, 2 * (x - expected_mean) / np.sqrt(expected_var + eps) + 1, rtol=1e-12)


def test_batchnorm_running_statistics_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    x, gamma, beta = rng.standard_normal((8, 3)), rng.standard_normal(3), rng.standard_normal(3)
    bn_param = {"mode": "train", "momentum": 0.9}
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    running_mean, running_var = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    t_out = torch.nn.functional.batch_norm(torch.tensor(x), running_mean, running_var, torch.tensor(gamma),
                                           torch.tensor(beta), training=True, momentum=0.1, eps=1e-5)
    np.testing.assert_allclose(out, t_out.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], running_mean.numpy(), rtol=1e-12)
    # PyTorch keeps the unbiased variance as its running statistic; the contract here is the biased one.
    np.testing.assert_allclose(bn_param["running_var"], running_var.numpy() * 7 / 8, rtol=1e-12)


def test_batchnorm_rejects_unknown_mode():
    with pytest.raises(ValueError, match="'train' or 'test'; got 'eval'"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), {"mode": "eval"})


def test_batchnorm_rejects_mismatched_gamma():
    with pytest.raises(ValueError, match=r"gamma \(D,\).*\(4,\)"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(4), np.zeros(3), {"mode": "train"})


def test_batchnorm_replaces_running_arrays_without_writing_into_them(rng):
    running_mean, running_var = np.ones(3), np.ones(3)
    bn_param = {"mode": "train", "running_mean": running_mean, "running_var": running_var}
    batchnorm_forward(rng.standard_normal((4, 3)), np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_array_equal(running_mean, np.ones(3))
    np.testing.assert_array_equal(running_var, np.ones(3))
    assert not np.array_equal(bn_param["running_mean"], np.ones(3))


def test_layernorm_normalises_each_sample(rng, backward_errors):
    x = 3 * rng.standard_normal((4, 6)) + 1
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    out, _ = layernorm_forward(x, np.ones(6), np.zeros(6), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-4)
    assert max(backward_errors(layernorm_forward, layernorm_backward, (x, gamma, beta), ({},), rng=rng)) < 1e-7


def test_layernorm_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x, gamma, beta = rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)
    out, _ = layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    t_out = torch.nn.functional.layer_norm(torch.tensor(x), (6,), torch.tensor(gamma), torch.tensor(beta), 1e-5)
    np.testing.assert_allclose(out, t_out.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_keeps_fraction_p_and_preserves_the_mean():
    x = np.ones((500, 400))
    for p in (0.25, 0.6, 0.9):
        out, (_, mask) = dropout_forward(x, {"p": p, "mode": "train", "seed": 7})
        kept = out != 0
        assert abs(kept.mean() - p) < 0.01  # 200000 Bernoulli(p) draws: std of the fraction < 0.0012
        np.testing.assert_allclose(out[kept], 1 / p)  # inverted dropout scales kept units by 1/p
        assert abs(out.mean() - 1) < 0.02


def test_dropout_test_mode_is_identity(rng):
    x = rng.standard_normal((3, 4))
    out, cache = dropout_forward(x, {"p": 0.3, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_seed_reproducibility(rng):
    x = rng.standard_normal((20, 30))
    first, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 123})
    again, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 123})
    other, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 124})
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dropout_without_seed_follows_numpy_global_seed(rng):
    x = rng.standard_normal((20, 30))
    np.random.seed(5)
    first, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    np.random.seed(5)
    again, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    np.testing.assert_array_equal(first, again)


def test_dropout_backward_matches_numeric_gradient(rng, backward_errors):
    x = rng.standard_normal((5, 6))
    params = ({"p": 0.4, "mode": "train", "seed": 3},)  # the seed fixes the mask across forward calls
    assert backward_errors(dropout_forward, dropout_backward, (x,), params, rng=rng)[0] < 1e-8


@pytest.mark.parametrize("param, message", [
    ({"p": 0.0, "mode": "train"}, r"keep probability and must lie in \(0, 1\]; got 0.0"),
    ({"p": 1.5, "mode": "train"}, "got 1.5"),
    ({"mode": "train"}, "got None"),
    ({"p": 0.5, "mode": "eval"}, "'train' or 'test'; got 'eval'"),
])
def test_dropout_rejects_bad_parameters(param, message):
    with pytest.raises(ValueError, match=message):
        dropout_forward(np.ones(3), param)


def test_affine_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="x flattens to 6 features per sample"):
        affine_forward(np.zeros((2, 2, 3)), np.zeros((5, 4)), np.zeros(4))


LAYERS = {
    "affine": (affine_forward, affine_backward, lambda r: (r.standard_normal((3, 2, 2)),
                                                           r.standard_normal((4, 5)), r.standard_normal(5)), ()),
    "relu": (relu_forward, relu_backward, lambda r: (r.standard_normal((3, 4)),), ()),
    "batchnorm": (batchnorm_forward, batchnorm_backward,
                  lambda r: (r.standard_normal((4, 3)), r.standard_normal(3), r.standard_normal(3)),
                  ({"mode": "train"},)),
    "batchnorm_alt": (batchnorm_forward, batchnorm_backward_alt,
                      lambda r: (r.standard_normal((4, 3)), r.standard_normal(3), r.standard_normal(3)),
                      ({"mode": "train"},)),
    "layernorm": (layernorm_forward, layernorm_backward,
                  lambda r: (r.standard_normal((4, 3)), r.standard_normal(3), r.standard_normal(3)), ({},)),
    "dropout": (dropout_forward, dropout_backward, lambda r: (r.standard_normal((4, 3)),),
                ({"p": 0.5, "mode": "train", "seed": 1},)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_inputs_and_cache_are_not_modified(name, rng, unchanged):
    snapshot, assert_unchanged = unchanged
    forward, backward, make_inputs, params = LAYERS[name]
    params = copy.deepcopy(params)  # the table is shared between tests; batchnorm writes into its dict
    inputs = make_inputs(rng)
    before = snapshot(inputs)
    params_before = snapshot(params)
    out, cache = forward(*inputs, *params)
    assert_unchanged(before, inputs)
    for old, new in zip(params_before, params):  # only the running statistics may be added
        assert_unchanged(old, {k: v for k, v in new.items() if k not in ("running_mean", "running_var")})
    dout = rng.standard_normal(out.shape)
    before = snapshot((dout, cache))
    backward(dout, cache)
    assert_unchanged(before, (dout, cache))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_float32_stays_float32(name, rng):
    forward, backward, make_inputs, params = LAYERS[name]
    params = copy.deepcopy(params)
    inputs = [a.astype(np.float32) for a in make_inputs(rng)]
    out, cache = forward(*inputs, *params)
    assert out.dtype == np.float32
    grads = backward(np.ones_like(out), cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert [g.dtype for g in grads] == [np.float32] * len(grads)
