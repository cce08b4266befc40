"""Update rules against values derived by hand and against a scalar re-implementation in plain Python."""
import math

import numpy as np
import pytest

from reference_impl import optim

W = np.array([1.0, -2.0, 0.5])
DW = np.array([0.5, 0.25, -4.0])


def test_sgd_one_step_by_hand():
    # w - 0.1 * dw, worked out per entry: 1 - 0.05, -2 - 0.025, 0.5 + 0.4
    next_w, config = optim.sgd(W, DW, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, [0.95, -2.025, 0.9], rtol=1e-15)
    assert config["learning_rate"] == 0.1


def test_sgd_default_learning_rate_is_1e_2():
    next_w, config = optim.sgd(W, DW)
    assert config == {"learning_rate": 1e-2}
    np.testing.assert_allclose(next_w, [0.995, -2.0025, 0.54], rtol=1e-15)


def test_momentum_two_steps_by_hand():
    config = {"learning_rate": 0.1, "momentum": 0.5}
    w1, config = optim.sgd_momentum(W, DW, config)
    # v1 = -0.1 * dw = [-0.05, -0.025, 0.4]
    np.testing.assert_allclose(config["velocity"], [-0.05, -0.025, 0.4], rtol=1e-15)
    np.testing.assert_allclose(w1, [0.95, -2.025, 0.9], rtol=1e-15)
    w2, config = optim.sgd_momentum(w1, np.array([1.0, 0.0, 0.0]), config)
    # v2 = 0.5 * v1 - 0.1 * [1, 0, 0] = [-0.125, -0.0125, 0.2]
    np.testing.assert_allclose(config["velocity"], [-0.125, -0.0125, 0.2], rtol=1e-14)
    np.testing.assert_allclose(w2, [0.825, -2.0375, 1.1], rtol=1e-14)


def test_momentum_defaults():
    _, config = optim.sgd_momentum(W, DW)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9


def test_rmsprop_first_step_is_ten_learning_rates_against_the_gradient():
    # cache = 0.01 * dw**2, so dw / sqrt(cache) = 10 * sign(dw): the first step is 10 * lr * sign(dw).
    next_w, config = optim.rmsprop(W, DW, {"learning_rate": 1e-3})
    np.testing.assert_allclose(config["cache"], 0.01 * DW**2, rtol=1e-15)
    np.testing.assert_allclose(next_w, W - 1e-2 * np.sign(DW), rtol=1e-6)
    assert (config["decay_rate"], config["epsilon"]) == (0.99, 1e-8)


def test_adam_first_step_moves_each_weight_by_the_learning_rate():
    # With t = 1 the bias corrections undo the (1 - beta) factors: m_hat = dw and v_hat = dw**2,
    # so the step is lr * dw / |dw| = lr * sign(dw) (up to epsilon).
    next_w, config = optim.adam(W, DW, {"learning_rate": 0.01})
    assert config["t"] == 1
    np.testing.assert_allclose(config["m"], 0.1 * DW, rtol=1e-15)
    np.testing.assert_allclose(config["v"], 0.001 * DW**2, rtol=1e-12)
    np.testing.assert_allclose(next_w, W - 0.01 * np.sign(DW), rtol=1e-6)
    assert (config["beta1"], config["beta2"], config["epsilon"]) == (0.9, 0.999, 1e-8)


def test_adam_default_learning_rate_is_1e_3():
    _, config = optim.adam(W, DW)
    assert config["learning_rate"] == 1e-3


def _scalar_rmsprop(w, grads, lr, decay, eps):
    cache = 0.0
    for g in grads:
        cache = decay * cache + (1 - decay) * g * g
        w = w - lr * g / (math.sqrt(cache) + eps)
    return w


def _scalar_adam(w, grads, lr, b1, b2, eps):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    return w


@pytest.mark.parametrize("rule, scalar, hyper", [
    (optim.rmsprop, _scalar_rmsprop, {"learning_rate": 0.05, "decay_rate": 0.9, "epsilon": 1e-8}),
    (optim.adam, _scalar_adam, {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-8}),
])
def test_several_steps_match_a_plain_python_version(rule, scalar, hyper):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(4)]
    w, config = w0, dict(hyper)
    for g in grads:
        w, config = rule(w, g, config)
    expected = np.array([scalar(w0[i], [g[i] for g in grads], *hyper.values())
                         for i in np.ndindex(w0.shape)]).reshape(w0.shape)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(optim.UPDATE_RULES))
def test_rules_keep_inputs_and_float32(name):
    w = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    dw = np.full((2, 3), 0.5, dtype=np.float32)
    w_before, dw_before = w.copy(), dw.copy()
    next_w, config = optim.UPDATE_RULES[name](w, dw, None)
    np.testing.assert_array_equal(w, w_before)
    np.testing.assert_array_equal(dw, dw_before)
    assert next_w.dtype == np.float32 and next_w.shape == (2, 3)
    assert not np.array_equal(next_w, w)
    assert isinstance(config, dict)


@pytest.mark.parametrize("name", sorted(optim.UPDATE_RULES))
def test_rules_reject_mismatched_gradient(name):
    with pytest.raises(ValueError, match=r"\(3,\) vs dw \(4,\)"):
        optim.UPDATE_RULES[name](np.zeros(3), np.zeros(4))


def test_rule_table_is_read_only():
    with pytest.raises(TypeError):
        optim.UPDATE_RULES["sgd"] = optim.adam


@pytest.mark.parametrize("name, torch_class, torch_kwargs", [
    ("sgd", "SGD", {"lr": 0.1}),
    ("rmsprop", "RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
    ("adam", "Adam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}),
])
def test_steps_match_pytorch_optimisers(name, torch_class, torch_kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    param = torch.tensor(w0, requires_grad=True)
    optimiser = getattr(torch.optim, torch_class)([param], **torch_kwargs)
    w, config = w0, {"learning_rate": torch_kwargs["lr"]}
    for g in grads:
        param.grad = torch.tensor(g)
        optimiser.step()
        w, config = optim.UPDATE_RULES[name](w, g, config)
    np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-10)
