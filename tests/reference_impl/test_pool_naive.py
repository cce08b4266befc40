"""Naive max pooling: published figure, routing to one maximum, accumulation, numeric gradients, PyTorch."""
import numpy as np
import pytest

from reference_impl.gradient_check import eval_numerical_gradient_array, rel_error
from reference_impl.pool_naive import max_pool_backward_naive, max_pool_forward_naive

# (x shape, pool_height, pool_width, stride): tiling, overlapping, non-square, stride != pool size, non-tiling.
BATTERY = [
    ((2, 3, 8, 8), 2, 2, 2),
    ((2, 2, 5, 6), 3, 3, 1),
    ((2, 2, 4, 5), 2, 3, 1),
    ((2, 2, 7, 6), 3, 2, 2),
    ((2, 2, 8, 7), 3, 2, 2),  # last row and column not covered
    ((2, 2, 8, 8), 2, 2, 3),  # stride larger than the window: gaps between windows
    ((1, 3, 7, 9), 4, 4, 2),  # overlapping and not tiling
]
BATTERY_IDS = [f"x{x[2]}x{x[3]}-pool{ph}x{pw}-s{s}" for x, ph, pw, s in BATTERY]


def pool_param(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


def test_forward_matches_published_linspace_fixture():
    x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    correct_out = np.array([[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                             [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                             [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
                            [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                             [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                             [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])
    out, _ = max_pool_forward_naive(x, pool_param(2, 2, 2))
    assert rel_error(out, correct_out) < 1e-7  # published: 4.2e-8


@pytest.mark.parametrize("x_shape, ph, pw, s", BATTERY, ids=BATTERY_IDS)
def test_forward_matches_window_maxima(x_shape, ph, pw, s, rng):
    x = rng.standard_normal(x_shape)
    out, _ = max_pool_forward_naive(x, pool_param(ph, pw, s))
    h_out, w_out = 1 + (x_shape[2] - ph) // s, 1 + (x_shape[3] - pw) // s
    assert out.shape == x_shape[:2] + (h_out, w_out)
    for n, c, i, j in np.ndindex(out.shape):
        assert out[n, c, i, j] == max(x[n, c, i * s + a, j * s + b] for a in range(ph) for b in range(pw))


def test_backward_matches_published_figure():
    """The notebook's check: seed 231, x (3,2,8,8), 2x2 stride 2 (published error ~3.3e-12)."""
    legacy = np.random.RandomState(231)
    x, dout = legacy.randn(3, 2, 8, 8), legacy.randn(3, 2, 4, 4)
    param = pool_param(2, 2, 2)
    dx_num = eval_numerical_gradient_array(lambda v: max_pool_forward_naive(v, param)[0], x.copy(), dout)
    _, cache = max_pool_forward_naive(x, param)
    assert rel_error(max_pool_backward_naive(dout, cache), dx_num) < 1e-10


@pytest.mark.parametrize("x_shape, ph, pw, s", BATTERY, ids=BATTERY_IDS)
def test_backward_matches_numeric_gradient(x_shape, ph, pw, s, rng, backward_errors):
    x = rng.standard_normal(x_shape)  # continuous values: no ties, so the max is differentiable
    (error,) = backward_errors(max_pool_forward_naive, max_pool_backward_naive, (x,), (pool_param(ph, pw, s),),
                               rng=rng)
    assert error < 1e-8


def test_backward_accumulates_over_overlapping_windows():
    """A peak in the middle of a 3x3 input is the max of all four 2x2 stride-1 windows: it gets their sum."""
    x = np.array([[[[0.1, 0.2, 0.3], [0.4, 9.0, 0.5], [0.6, 0.7, 0.8]]]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    _, cache = max_pool_forward_naive(x, pool_param(2, 2, 1))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(max_pool_backward_naive(dout, cache), expected)


def test_backward_routes_ties_to_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 5.0, 5.0, 0.0], [5.0, 5.0, 0.0, 2.0]]]])
    dout = np.array([[[[7.0, 3.0]]]])
    _, cache = max_pool_forward_naive(x, pool_param(2, 2, 2))
    expected = np.array([[[[0.0, 7.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    np.testing.assert_array_equal(max_pool_backward_naive(dout, cache), expected)


@pytest.mark.parametrize("x_shape, ph, pw, s", BATTERY, ids=BATTERY_IDS)
def test_matches_pytorch_forward_and_autograd(x_shape, ph, pw, s, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(x_shape)
    out, cache = max_pool_forward_naive(x, pool_param(ph, pw, s))
    dout = rng.standard_normal(out.shape)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(tx, kernel_size=(ph, pw), stride=s)
    t_out.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_allclose(max_pool_backward_naive(dout, cache), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_inputs_and_cache_are_not_modified(rng, unchanged):
    snapshot, assert_unchanged = unchanged
    x, param = rng.standard_normal((2, 2, 5, 5)), pool_param(3, 3, 1)
    before = snapshot((x, param))
    out, cache = max_pool_forward_naive(x, param)
    assert_unchanged(before, (x, param))
    dout = rng.standard_normal(out.shape)
    before = snapshot((dout, cache))
    max_pool_backward_naive(dout, cache)
    assert_unchanged(before, (dout, cache))


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    out, cache = max_pool_forward_naive(x, pool_param(2, 2, 2))
    assert out.dtype == np.float32
    assert max_pool_backward_naive(np.ones_like(out), cache).dtype == np.float32


@pytest.mark.parametrize("x_shape, param, error, message", [
    ((4, 4), pool_param(2, 2, 2), ValueError, r"\(N, C, H, W\); got shape \(4, 4\)"),
    ((1, 1, 4, 4), pool_param(2, 2, 0), ValueError, "must be > 0"),
    ((1, 1, 4, 4), pool_param(0, 2, 1), ValueError, "must be > 0"),
    ((1, 1, 4, 4), pool_param(2, 2.0, 2), TypeError, "must be integers"),
    ((1, 1, 4, 4), {"pool_height": 2, "stride": 2}, TypeError, "'pool_width': None"),
    ((1, 1, 4, 3), pool_param(2, 5, 1), ValueError, "pool window 2x5 is larger than the input 4x3"),
])
def test_invalid_inputs_raise_specific_errors(x_shape, param, error, message):
    with pytest.raises(error, match=message):
        max_pool_forward_naive(np.zeros(x_shape), param)


def test_backward_rejects_dout_of_wrong_shape():
    _, cache = max_pool_forward_naive(np.zeros((1, 2, 4, 4)), pool_param(2, 2, 2))
    with pytest.raises(ValueError, match=r"dout has shape \(1, 2, 3, 3\); the forward output had shape"):
        max_pool_backward_naive(np.zeros((1, 2, 3, 3)), cache)
