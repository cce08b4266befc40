"""Sandwich layers: forward equals the composition of the naive parts, backward equals numeric gradients."""
import numpy as np
import pytest

from reference_impl.conv_naive import conv_forward_naive
from reference_impl.gradient_check import rel_error
from reference_impl.pool_naive import max_pool_forward_naive
from reference_impl.sandwich import (affine_relu_backward, affine_relu_forward, conv_relu_backward,
                                     conv_relu_forward, conv_relu_pool_backward, conv_relu_pool_forward)
from reference_impl.sandwich_bn import conv_bn_relu_backward, conv_bn_relu_forward

CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def test_affine_relu(rng, backward_errors):
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((8, 5)), rng.standard_normal(5)
    out, _ = affine_relu_forward(x, w, b)
    np.testing.assert_allclose(out, np.maximum(x.reshape(3, 8) @ w + b, 0), rtol=1e-12)
    errors = backward_errors(affine_relu_forward, affine_relu_backward, [x, w, b], rng=rng)
    assert max(errors) < 1e-8, errors


def test_conv_relu(rng, backward_errors):
    x, w, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((3, 3, 3, 2)), rng.standard_normal(3)
    out, _ = conv_relu_forward(x, w, b, CONV_PARAM)
    assert rel_error(out, np.maximum(conv_forward_naive(x, w, b, CONV_PARAM)[0], 0)) < 1e-12
    errors = backward_errors(conv_relu_forward, conv_relu_backward, [x, w, b], params=(CONV_PARAM,), rng=rng)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("pool_param", [POOL_PARAM, {"pool_height": 3, "pool_width": 2, "stride": 1}])
def test_conv_relu_pool(rng, backward_errors, pool_param):
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((3, 3, 3, 3)), rng.standard_normal(3)
    out, _ = conv_relu_pool_forward(x, w, b, CONV_PARAM, pool_param)
    expected = max_pool_forward_naive(np.maximum(conv_forward_naive(x, w, b, CONV_PARAM)[0], 0), pool_param)[0]
    assert rel_error(out, expected) < 1e-12
    errors = backward_errors(conv_relu_pool_forward, conv_relu_pool_backward, [x, w, b],
                             params=(CONV_PARAM, pool_param), rng=rng)
    assert max(errors) < 1e-7, errors


def test_conv_bn_relu(rng, backward_errors):
    x, w, b = rng.standard_normal((4, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    out, _ = conv_bn_relu_forward(x, w, b, gamma, beta, CONV_PARAM, {"mode": "train"})
    conv = conv_forward_naive(x, w, b, CONV_PARAM)[0]
    mean, var = conv.mean(axis=(0, 2, 3), keepdims=True), conv.var(axis=(0, 2, 3), keepdims=True)
    expected = (conv - mean) / np.sqrt(var + 1e-5) * gamma[:, None, None] + beta[:, None, None]
    assert rel_error(out, np.maximum(expected, 0)) < 1e-10
    errors = backward_errors(conv_bn_relu_forward, conv_bn_relu_backward, [x, w, b, gamma, beta],
                             params=(CONV_PARAM, {"mode": "train"}), rng=rng)
    dx_error, dw_error, _, dgamma_error, dbeta_error = errors
    assert max(dx_error, dw_error, dgamma_error, dbeta_error) < 1e-6, errors
    # Batch normalisation subtracts each channel's mean, conv bias included: db is zero up to rounding, where
    # a relative error would only compare two rounding noises.
    _, cache = conv_bn_relu_forward(x, w, b, gamma, beta, CONV_PARAM, {"mode": "train"})
    db = conv_bn_relu_backward(rng.standard_normal(out.shape), cache)[2]
    assert db.shape == (3,) and np.abs(db).max() < 1e-10


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w, b = rng.standard_normal((3, 3, 3, 3)).astype(np.float32), np.zeros(3, dtype=np.float32)
    out, cache = conv_relu_pool_forward(x, w, b, CONV_PARAM, POOL_PARAM)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv_relu_pool_backward(np.ones_like(out), cache))
