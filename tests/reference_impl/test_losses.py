"""Softmax and SVM losses: hand-computed values, numeric gradients, PyTorch, validation."""
import numpy as np
import pytest

from reference_impl.gradient_check import eval_numerical_gradient, rel_error
from reference_impl.losses import softmax_loss, svm_loss


def test_softmax_loss_of_uniform_scores_is_log_of_class_count():
    loss, dx = softmax_loss(np.zeros((4, 10)), np.array([0, 3, 9, 2]))
    assert abs(loss - np.log(10)) < 1e-12
    expected = np.full((4, 10), 0.1)
    expected[[0, 1, 2, 3], [0, 3, 9, 2]] -= 1
    np.testing.assert_allclose(dx, expected / 4, rtol=1e-12)


def test_softmax_loss_hand_computed_two_classes():
    # One sample, scores [0, log 3]: softmax = [1/4, 3/4]; correct class 0 -> loss log 4.
    loss, dx = softmax_loss(np.array([[0.0, np.log(3.0)]]), np.array([0]))
    assert abs(loss - np.log(4.0)) < 1e-12
    np.testing.assert_allclose(dx, [[0.25 - 1, 0.75]], rtol=1e-12)


def test_softmax_loss_is_stable_for_huge_scores():
    loss, dx = softmax_loss(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    assert abs(loss - 500.0) < 1e-9  # the second sample costs 1000, the first ~0


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_gradient_matches_numeric_gradient(loss_fn, rng):
    x, y = rng.standard_normal((6, 5)), rng.integers(5, size=6)  # continuous scores: no hinge exactly at a kink
    _, dx = loss_fn(x, y)
    dx_num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(), verbose=False)
    assert rel_error(dx, dx_num) < 1e-7


def test_svm_loss_hand_computed():
    # Sample 0 (class 0): margins 2-3+1=0, 4-3+1=2. Sample 1 (class 2): margins 1-1+1=1, 0-1+1=0.
    x = np.array([[3.0, 2.0, 4.0], [1.0, 0.0, 1.0]])
    loss, dx = svm_loss(x, np.array([0, 2]))
    assert loss == pytest.approx((2 + 1) / 2)
    np.testing.assert_allclose(dx, np.array([[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0]]) / 2)


def test_softmax_loss_matches_pytorch_cross_entropy(rng):
    torch = pytest.importorskip("torch")
    x, y = rng.standard_normal((7, 4)), rng.integers(4, size=7)
    loss, dx = softmax_loss(x, y)
    tx = torch.tensor(x, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(tx, torch.tensor(y))
    t_loss.backward()
    assert abs(loss - t_loss.item()) < 1e-12
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_svm_loss_matches_pytorch_multi_margin(rng):
    torch = pytest.importorskip("torch")
    x, y = rng.standard_normal((7, 4)), rng.integers(4, size=7)
    loss, dx = svm_loss(x, y)
    tx = torch.tensor(x, requires_grad=True)
    # multi_margin_loss divides each sample's hinge sum by the class count; ours does not.
    t_loss = torch.nn.functional.multi_margin_loss(tx, torch.tensor(y), margin=1.0) * 4
    t_loss.backward()
    assert abs(loss - t_loss.item()) < 1e-12
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_inputs_are_not_modified(loss_fn, rng, unchanged):
    snapshot, assert_unchanged = unchanged
    x, y = rng.standard_normal((3, 4)), np.array([0, 3, 1])
    before = snapshot((x, y))
    loss_fn(x, y)
    assert_unchanged(before, (x, y))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize("x, y, error, message", [
    (np.zeros(3), np.array([0]), ValueError, r"shape \(N, C\); got shape \(3,\)"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, r"labels y must have shape \(2,\)"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, "must be integers; got dtype float64"),
    (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"\[0, 3\); got values from 0 to 3"),
    (np.zeros((2, 3)), np.array([-1, 0]), ValueError, "got values from -1 to 0"),
])
def test_invalid_inputs_raise_specific_errors(loss_fn, x, y, error, message):
    with pytest.raises(error, match=message):
        loss_fn(x, y)
