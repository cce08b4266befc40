"""Numeric gradient helpers: centred differences, restoring x, printing only when asked, rel_error."""
import numpy as np
import pytest

from reference_impl.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                           grad_check_sparse, rel_error)


def test_numerical_gradient_of_cubic_sum(rng):
    x = rng.standard_normal((3, 4))
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 3), x, verbose=False)
    assert rel_error(grad, 3 * x ** 2) < 1e-8


def test_difference_is_centred_not_one_sided():
    # For a quadratic the centred difference is exact whatever h; a forward difference would give 2 + h.
    grad = eval_numerical_gradient(lambda v: float(v[0] ** 2), np.array([1.0]), verbose=False, h=1e-2)
    assert abs(grad[0] - 2.0) < 1e-10
    grad = eval_numerical_gradient_array(lambda v: v ** 2, np.array([1.0]), np.array([1.0]), h=1e-2)
    assert abs(grad[0] - 2.0) < 1e-10


def test_numerical_gradient_array_is_a_vector_jacobian_product(rng):
    x, df = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2))
    grad = eval_numerical_gradient_array(lambda v: 2 * np.sin(v), x, df)
    assert rel_error(grad, 2 * np.cos(x) * df) < 1e-8


def test_array_version_copes_with_functions_that_reuse_their_output_buffer(rng):
    buffer = np.zeros(4)

    def reusing(v):
        np.multiply(v, 3.0, out=buffer)  # returns the same array object on every call
        return buffer

    x, df = rng.standard_normal(4), rng.standard_normal(4)
    assert rel_error(eval_numerical_gradient_array(reusing, x, df), 3 * df) < 1e-8


@pytest.mark.parametrize("which", ["scalar", "array", "sparse"])
def test_x_is_restored_exactly_even_when_f_raises(which, rng):
    x = rng.standard_normal((3, 3))
    original = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:  # fails in the middle of the second entry, while x is perturbed
            raise RuntimeError("boom")
        return np.sum(v ** 2) if which != "array" else v ** 2

    with pytest.raises(RuntimeError, match="boom"):
        if which == "scalar":
            eval_numerical_gradient(f, x, verbose=False)
        elif which == "array":
            eval_numerical_gradient_array(f, x, np.ones((3, 3)))
        else:
            grad_check_sparse(f, x, 2 * x, seed=0, verbose=False)
    np.testing.assert_array_equal(x, original)


def test_x_is_restored_bitwise_after_a_full_run(rng):
    x = rng.standard_normal((4, 5)) * 1e3  # large values: x + h - h may round, so restoring must reassign
    original = x.copy()
    eval_numerical_gradient(lambda v: np.sum(np.tanh(v)), x, verbose=False)
    eval_numerical_gradient_array(np.tanh, x, np.ones_like(x))
    grad_check_sparse(lambda v: np.sum(np.tanh(v)), x, np.zeros_like(x), seed=1, verbose=False)
    np.testing.assert_array_equal(x, original)


def test_nothing_is_printed_unless_verbose(rng, capsys):
    x = rng.standard_normal(3)
    eval_numerical_gradient(np.sum, x, verbose=False)
    eval_numerical_gradient_array(np.sin, x, np.ones(3))
    grad_check_sparse(np.sum, x, np.ones(3), num_checks=2, seed=0, verbose=False)
    assert capsys.readouterr().out == ""
    eval_numerical_gradient(np.sum, x, verbose=True)
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_grad_check_sparse_small_for_right_gradient_large_for_wrong(rng, capsys):
    x = rng.standard_normal((5, 6))
    right = grad_check_sparse(lambda v: np.sum(v ** 2), x, 2 * x, num_checks=8, seed=3)
    assert right.shape == (8,) and right.max() < 1e-8
    assert len(capsys.readouterr().out.splitlines()) == 8
    wrong = grad_check_sparse(lambda v: np.sum(v ** 2), x, 4 * x, num_checks=8, seed=3, verbose=False)
    np.testing.assert_allclose(wrong, 1 / 3, rtol=1e-6)  # |2x - 4x| / (|2x| + |4x|)


def test_grad_check_sparse_seed_picks_the_same_entries(rng):
    x = rng.standard_normal(50)
    wrong = np.arange(50.0)  # a different error at every entry reveals which entries were picked
    first = grad_check_sparse(np.sum, x, wrong, num_checks=5, seed=11, verbose=False)
    again = grad_check_sparse(np.sum, x, wrong, num_checks=5, seed=11, verbose=False)
    other = grad_check_sparse(np.sum, x, wrong, num_checks=5, seed=12, verbose=False)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_rel_error_values():
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-10])) == pytest.approx(1e-10 / 1e-8)  # 1e-8 floor
    assert rel_error(np.array([1.0, -1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)


def test_rel_error_rejects_different_shapes():
    with pytest.raises(ValueError, match=r"equal shapes; got \(1, 2, 2\) and \(2, 2\)"):
        rel_error(np.zeros((1, 2, 2)), np.zeros((2, 2)))


@pytest.mark.parametrize("check", [
    lambda x: eval_numerical_gradient(np.sum, x, verbose=False),
    lambda x: eval_numerical_gradient_array(np.sin, x, np.ones(3)),
    lambda x: grad_check_sparse(np.sum, x, np.ones(3), verbose=False),
])
def test_integer_points_are_refused_rather_than_truncated(check):
    with pytest.raises(TypeError, match="floating-point ndarray .* dtype int64"):
        check(np.arange(3))
