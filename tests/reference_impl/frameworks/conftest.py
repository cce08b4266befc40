"""Shared pieces of the framework tests: the tiny data set, an independent NumPy three-layer convnet, and
statistical bounds for checking a random initialisation.

The NumPy network is assembled from the kit's own layers (conv_naive, fc_layers, losses) in NCHW/OIHW, so
comparing a framework's result with it cross-checks the framework code and the layout conversions at once.
"""
import math

import numpy as np
import pytest

from reference_impl.conv_naive import conv_backward_naive, conv_forward_naive
from reference_impl.fc_layers import affine_backward, affine_forward, relu_backward, relu_forward
from reference_impl.losses import softmax_loss
from reference_impl.tiny_cifar import make_tiny_cifar10

# Every statistical check in the framework tests is allowed this probability of failing for a correct
# initialiser; there are fewer than ten such checks, so a correct suite fails less than once in a million runs.
FAILURE_PROBABILITY_PER_CHECK = 1e-7


@pytest.fixture(scope="session")
def tiny_cifar_dir(tmp_path_factory):
    """The tiny CIFAR-format data set, written once per test session."""
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny_cifar"))


def numpy_three_layer_loss(x, params, y=None):
    """Scores, or (loss, gradients), of conv(pad 2)-ReLU-conv(pad 1)-ReLU-affine in NCHW, in float64.

    Inputs: x (N, C, H, W); params [w1 (F1, C, KH1, KW1), b1, w2 (F2, F1, KH2, KW2), b2, fc_w (F2*H2*W2, K),
    fc_b]; y (N,) labels or None.
    Returns: scores (N, K) when y is None, else (mean softmax loss, list of gradients in params' order).
    """
    w1, b1, w2, b2, fc_w, fc_b = (np.asarray(p, dtype=np.float64) for p in params)
    x = np.asarray(x, dtype=np.float64)
    conv1, conv1_cache = conv_forward_naive(x, w1, b1, {"stride": 1, "pad": 2})
    hidden1, relu1_cache = relu_forward(conv1)
    conv2, conv2_cache = conv_forward_naive(hidden1, w2, b2, {"stride": 1, "pad": 1})
    hidden2, relu2_cache = relu_forward(conv2)
    scores, fc_cache = affine_forward(hidden2, fc_w, fc_b)  # flattens (N, F2, H2, W2) in NCHW order
    if y is None:
        return scores
    loss, dscores = softmax_loss(scores, np.asarray(y))
    dhidden2, dfc_w, dfc_b = affine_backward(dscores, fc_cache)
    dhidden1, dw2, db2 = conv_backward_naive(relu_backward(dhidden2, relu2_cache), conv2_cache)
    _, dw1, db1 = conv_backward_naive(relu_backward(dhidden1, relu1_cache), conv1_cache)
    return loss, [dw1, db1, dw2, db2, dfc_w, dfc_b]


@pytest.fixture
def numpy_three_layer():
    """The independent NumPy three-layer convnet, ``numpy_three_layer_loss``, as a fixture."""
    return numpy_three_layer_loss


def gaussian_variance_ratio_bounds(count, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Interval for mean(w**2) / sigma**2 of ``count`` independent N(0, sigma**2) draws.

    count * mean(w**2) / sigma**2 is chi-square with ``count`` degrees of freedom; by Laurent and Massart
    (2000, Lemma 1), P(X - n >= 2 sqrt(n t) + 2 t) <= exp(-t) and P(n - X >= 2 sqrt(n t)) <= exp(-t). With
    t = ln(2 / failure_probability) the ratio leaves the interval with probability at most failure_probability.
    """
    t = math.log(2.0 / failure_probability)
    return 1.0 - 2.0 * math.sqrt(t / count), 1.0 + 2.0 * math.sqrt(t / count) + 2.0 * t / count


def gaussian_mean_bound(count, sigma, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Bound on |mean(w)| of ``count`` N(0, sigma**2) draws: P(|Z| >= z) <= 2 exp(-z**2 / 2) for Z ~ N(0, 1)."""
    z = math.sqrt(2.0 * math.log(2.0 / failure_probability))
    return z * sigma / math.sqrt(count)


def bounded_variance_ratio_bounds(count, square_max_ratio, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Interval for mean(w**2) / sigma**2 when every w**2 lies in [0, square_max_ratio * sigma**2] (Hoeffding).

    For draws of a truncated normal (Keras' "he_normal" cuts at two of its underlying standard deviations).
    """
    epsilon = square_max_ratio * math.sqrt(math.log(2.0 / failure_probability) / (2.0 * count))
    return 1.0 - epsilon, 1.0 + epsilon


@pytest.fixture
def init_bounds():
    """The three bound functions, for the initialisation tests."""
    return gaussian_variance_ratio_bounds, gaussian_mean_bound, bounded_variance_ratio_bounds
