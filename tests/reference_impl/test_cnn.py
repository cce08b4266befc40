"""ThreeLayerConvNet: initial loss, regularisation, numeric gradients, scores, dtypes, overfitting, errors."""
import math

import numpy as np
import pytest

from reference_impl.cnn import ThreeLayerConvNet
from reference_impl.data import get_CIFAR10_data
from reference_impl.gradient_check import eval_numerical_gradient, rel_error
from reference_impl.solver import Solver
from reference_impl.tiny_cifar import TINY_SPLIT, make_tiny_cifar10

SMALL = {"input_dim": (3, 16, 16), "num_filters": 3, "filter_size": 3, "hidden_dim": 7}


def _batch(n, input_dim, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *input_dim)), rng.integers(0, 10, size=n)


def test_parameter_shapes_and_initial_scale():
    model = ThreeLayerConvNet(input_dim=(3, 8, 6), num_filters=4, filter_size=5, hidden_dim=9, num_classes=7,
                              weight_scale=0.5, seed=0)
    shapes = {name: value.shape for name, value in model.params.items()}
    # The conv keeps 8x6, the pool halves it to 4x3: 4 filters * 4 * 3 = 48 inputs to the hidden layer.
    assert shapes == {"W1": (4, 3, 5, 5), "b1": (4,), "W2": (48, 9), "b2": (9,), "W3": (9, 7), "b3": (7,)}
    for name in ("b1", "b2", "b3"):
        assert (model.params[name] == 0).all()
    weights = np.concatenate([model.params[w].ravel() for w in ("W1", "W2", "W3")])
    assert abs(weights.std() - 0.5) < 0.05 and abs(weights.mean()) < 0.05


def test_initial_loss_is_log_10_and_regularisation_adds_half_reg_sum_of_squares():
    X, y = _batch(8, (3, 32, 32))
    model = ThreeLayerConvNet(dtype=np.float64, seed=1)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(math.log(10), abs=1e-3)  # tiny weights: uniform softmax over 10 classes

    model.reg = 0.5
    reg_loss, _ = model.loss(X, y)
    squares = sum(np.sum(model.params[w].astype(np.float64) ** 2) for w in ("W1", "W2", "W3"))
    assert reg_loss - loss == pytest.approx(0.5 * 0.5 * squares, rel=1e-9)
    assert reg_loss > loss


def test_regularisation_in_float32_default_dtype():
    X, y = _batch(4, (3, 32, 32))
    model = ThreeLayerConvNet(weight_scale=1e-2, seed=2)
    loss, _ = model.loss(X, y)
    model.reg = 0.1
    reg_loss, _ = model.loss(X, y)
    squares = sum(np.sum(model.params[w].astype(np.float64) ** 2) for w in ("W1", "W2", "W3"))
    assert reg_loss - loss == pytest.approx(0.05 * squares, rel=1e-4)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_gradients_match_numeric_gradients(reg):
    X, y = _batch(2, SMALL["input_dim"], seed=3)
    model = ThreeLayerConvNet(**SMALL, weight_scale=1e-1, reg=reg, dtype=np.float64, seed=4)
    _, grads = model.loss(X, y)
    assert grads.keys() == model.params.keys()
    for name in sorted(grads):
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-6)
        assert grads[name].shape == model.params[name].shape
        # The published notebook accepts ~1e-2 for W1/W2: ReLU kinks near zero spoil a few difference quotients.
        assert rel_error(grads[name], numeric) < 1e-5, name


def test_scores_without_labels():
    X, _ = _batch(5, SMALL["input_dim"])
    model = ThreeLayerConvNet(**SMALL, num_classes=4, dtype=np.float64, seed=0)
    scores = model.loss(X)
    assert scores.shape == (5, 4)
    # Scores are the network's last layer, computed here directly from the definition.
    W1, b1, W2, b2, W3, b3 = (model.params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((5, 3, 16, 16))
    for i in range(16):
        for j in range(16):
            conv[:, :, i, j] = np.tensordot(padded[:, :, i:i + 3, j:j + 3], W1, axes=([1, 2, 3], [1, 2, 3])) + b1
    pooled = np.maximum(conv, 0).reshape(5, 3, 8, 2, 8, 2).max(axis=(3, 5))
    hidden = np.maximum(pooled.reshape(5, -1) @ W2 + b2, 0)
    np.testing.assert_allclose(scores, hidden @ W3 + b3, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_respected(dtype):
    X, y = _batch(3, SMALL["input_dim"])  # float64 input; the model computes in its own dtype
    model = ThreeLayerConvNet(**SMALL, dtype=dtype, seed=0)
    assert all(value.dtype == dtype for value in model.params.values())
    assert model.loss(X).dtype == dtype
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float)
    assert all(grads[name].dtype == dtype for name in grads)


def test_seed_makes_initialisation_reproducible_and_none_uses_np_random():
    a, b = ThreeLayerConvNet(**SMALL, seed=7), ThreeLayerConvNet(**SMALL, seed=7)
    np.testing.assert_array_equal(a.params["W2"], b.params["W2"])
    np.random.seed(3)
    c = ThreeLayerConvNet(**SMALL)
    np.random.seed(3)
    expected_W1 = (1e-3 * np.random.randn(3, 3, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(c.params["W1"], expected_W1)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_filters": 0}, "num_filters must be a positive int, got 0"),
    ({"hidden_dim": 2.5}, "hidden_dim must be a positive int, got 2.5"),
    ({"filter_size": 4}, "filter_size must be odd.*got 4"),
    ({"input_dim": (3, 15, 16)}, "even.*H=15, W=16"),
    ({"input_dim": (3, 16)}, r"input_dim must be three positive ints \(C, H, W\), got \(3, 16\)"),
    ({"weight_scale": -1.0}, "weight_scale"),
    ({"reg": -0.1}, "reg must be a non-negative number, got -0.1"),
])
def test_constructor_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ThreeLayerConvNet(**{**SMALL, **kwargs})


def test_constructor_rejects_integer_dtype():
    with pytest.raises(TypeError, match="floating"):
        ThreeLayerConvNet(**SMALL, dtype=np.int32)


def test_loss_rejects_wrongly_shaped_input():
    model = ThreeLayerConvNet(**SMALL, seed=0)
    with pytest.raises(ValueError, match=r"\(N, 3, 16, 16\), got \(2, 3, 32, 32\)"):
        model.loss(np.zeros((2, 3, 32, 32)))


@pytest.mark.slow
def test_overfits_100_tiny_images(tmp_path):
    make_tiny_cifar10(tmp_path)
    data = get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=tmp_path)
    small = {"X_train": data["X_train"][:100], "y_train": data["y_train"][:100],
             "X_val": data["X_val"][:50], "y_val": data["y_val"][:50]}
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=8, filter_size=5, hidden_dim=64, weight_scale=1e-2, seed=0)
    solver = Solver(model, small, num_epochs=12, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=False)
    solver.train()
    assert solver.train_acc_history[-1] >= 0.9  # measured on all 100 images (num_train_samples=1000)
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]


def test_loss_and_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    X, y = _batch(3, (3, 8, 8), seed=5)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=5, hidden_dim=6, num_classes=5,
                              weight_scale=0.3, reg=0.2, dtype=np.float64, seed=6)
    loss, grads = model.loss(X, y % 5)
    t = {name: torch.tensor(value, requires_grad=True) for name, value in model.params.items()}
    pooled = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X), t["W1"], t["b1"], padding=2)), 2)
    hidden = F.relu(pooled.flatten(1) @ t["W2"] + t["b2"])
    expected = F.cross_entropy(hidden @ t["W3"] + t["b3"], torch.tensor(y % 5))
    expected = expected + 0.5 * 0.2 * sum((t[w] ** 2).sum() for w in ("W1", "W2", "W3"))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    for name, value in t.items():
        np.testing.assert_allclose(grads[name], value.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
