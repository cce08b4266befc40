"""Shared fixtures for the reference layers' tests: a seeded generator and a numeric-gradient checker."""
import copy

import numpy as np
import pytest

from reference_impl.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed, so every test sees the same data on every run."""
    return np.random.default_rng(231)


def numeric_backward_errors(forward, backward, inputs, params=(), dout=None, rng=None, h=1e-5):
    """Relative errors between a layer's analytic backward pass and centred differences of its forward.

    forward(*inputs, *params) -> (out, cache); backward(dout, cache) -> one gradient per entry of inputs
    (a single array when there is one input). The numeric gradient of input k is that of sum(out * dout),
    computed on a float64 copy so the caller's arrays are never perturbed. `params` are passed through
    untouched (deep-copied for each call, so a layer that writes into its param dict cannot leak state between
    the analytic and the numeric runs). Returns the list of rel_error values, one per input.
    """
    inputs = [np.array(a, dtype=np.float64) for a in inputs]
    out, cache = forward(*inputs, *copy.deepcopy(params))
    if dout is None:
        dout = (rng or np.random.default_rng(0)).standard_normal(out.shape)
    grads = backward(dout, cache)
    if len(inputs) == 1:
        grads = (grads,)
    assert len(grads) == len(inputs), f"backward returned {len(grads)} gradients for {len(inputs)} inputs"
    errors = []
    for k, value in enumerate(inputs):
        def forward_of_k(a, k=k):
            args = inputs[:k] + [a] + inputs[k + 1:]
            return forward(*args, *copy.deepcopy(params))[0]

        numeric = eval_numerical_gradient_array(forward_of_k, value.copy(), dout, h=h)
        assert grads[k].shape == value.shape, f"gradient {k} has shape {grads[k].shape}, input {value.shape}"
        errors.append(rel_error(grads[k], numeric))
    return errors


@pytest.fixture
def backward_errors():
    """The numeric_backward_errors helper, as a fixture."""
    return numeric_backward_errors


def snapshot(objects):
    """Deep copies of arrays, tuples, lists and dicts, to check later that nothing was modified."""
    return copy.deepcopy(objects)


def assert_unchanged(before, after, path="input"):
    """Assert two nested structures of arrays/dicts/tuples are equal, naming the first difference."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray) and before.dtype == after.dtype, f"{path} changed type"
        np.testing.assert_array_equal(after, before, err_msg=f"{path} was modified")
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), f"{path} keys changed: {sorted(before)} -> {sorted(after)}"
        for key in before:
            assert_unchanged(before[key], after[key], f"{path}[{key!r}]")
    elif isinstance(before, (tuple, list)):
        assert len(before) == len(after), f"{path} length changed"
        for i, (b, a) in enumerate(zip(before, after)):
            assert_unchanged(b, a, f"{path}[{i}]")
    else:
        assert before == after, f"{path} changed from {before!r} to {after!r}"


@pytest.fixture
def unchanged():
    """(snapshot, assert_unchanged) pair for the inputs-are-never-modified checks."""
    return snapshot, assert_unchanged
