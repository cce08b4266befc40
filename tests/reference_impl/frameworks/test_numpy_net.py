"""The NumPy three-layer convnet the framework assignments are checked against."""
import numpy as np
import pytest

from reference_impl.frameworks.numpy_net import (PARAM_NAMES, three_layer_convnet_scores,
                                                 three_layer_convnet_sgd_step)
from reference_impl.gradient_check import eval_numerical_gradient


def small_params(rng, C=3, H=5, W=7, F1=4, F2=3, classes=6, dtype=np.float64):
    """Random parameters for (N, C, H, W) inputs, with a non-square 5x3 first filter."""
    H2 = H + 4 - 5 + 1 + 2 - 3 + 1  # conv1 5x3 pad 2, then conv2 3x3 pad 1
    W2 = W + 4 - 3 + 1 + 2 - 3 + 1
    shapes = [(F1, C, 5, 3), (F1,), (F2, F1, 3, 3), (F2,), (F2 * H2 * W2, classes), (classes,)]
    return [(rng.standard_normal(s) * 0.5).astype(dtype) for s in shapes]


def test_scores_of_a_hand_computed_net():
    # One 1x1 input channel, 1x1 filters: the net is relu(relu(x*a + b)*c + d) . fc + e, easy to write out.
    x = np.arange(-4.0, 5.0).reshape(1, 1, 3, 3)
    a, b, c, d = 2.0, -1.0, 3.0, 0.5
    params = [np.full((1, 1, 1, 1), a), np.array([b]), np.full((1, 1, 1, 1), c), np.array([d]), None, None]
    # pad 2 around a 3x3 image with a 1x1 filter gives 7x7, pad 1 more gives 9x9.
    padded = np.pad(x[0, 0], 2)
    h1 = np.maximum(padded * a + b, 0)
    h2 = np.maximum(np.pad(h1, 1) * c + d, 0)  # (9, 9)
    fc_w = np.arange(81 * 2, dtype=np.float64).reshape(81, 2) / 100
    fc_b = np.array([1.0, -2.0])
    params[4], params[5] = fc_w, fc_b
    expected = h2.reshape(1, -1) @ fc_w + fc_b
    np.testing.assert_allclose(three_layer_convnet_scores(x, params), expected, rtol=1e-12)


def test_sgd_step_follows_the_numeric_gradient():
    rng = np.random.default_rng(3)
    params = small_params(rng)
    x = rng.standard_normal((2, 3, 5, 7))
    y = np.array([1, 4])
    learning_rate = 0.1
    before = [p.copy() for p in params]
    loss, new_params = three_layer_convnet_sgd_step(x, y, params, learning_rate)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)  # inputs untouched
    def cross_entropy(trial_params):
        scores = three_layer_convnet_scores(x, trial_params)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_probs[np.arange(len(y)), y].mean()

    for k, name in enumerate(PARAM_NAMES):
        def loss_of(value, k=k):
            return cross_entropy(params[:k] + [value] + params[k + 1:])

        numeric = eval_numerical_gradient(loss_of, params[k].copy(), verbose=False)
        analytic = (params[k] - new_params[k]) / learning_rate
        assert new_params[k].shape == params[k].shape
        # Norm-wise: entries near zero carry the finite differences' own O(h^2) error, which is not the step's.
        assert np.linalg.norm(analytic - numeric) <= 1e-6 * np.linalg.norm(numeric), name
    assert abs(loss - cross_entropy(params)) < 1e-12


def test_float32_stays_float32():
    rng = np.random.default_rng(4)
    params = small_params(rng, dtype=np.float32)
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    assert three_layer_convnet_scores(x, params).dtype == np.float32


@pytest.mark.parametrize("broken", ["count", "channels", "fc"])
def test_mismatched_shapes_are_rejected(broken):
    rng = np.random.default_rng(5)
    params = small_params(rng)
    x = rng.standard_normal((2, 3, 5, 7))
    if broken == "count":
        params = params[:5]
    elif broken == "channels":
        x = x[:, :2]
    else:
        params[4] = params[4][:-1]
    with pytest.raises(ValueError):
        three_layer_convnet_scores(x, params)


def test_bad_learning_rate_is_rejected():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="learning_rate"):
        three_layer_convnet_sgd_step(rng.standard_normal((1, 3, 5, 7)), np.array([0]), small_params(rng), -1.0)
