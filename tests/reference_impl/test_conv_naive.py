"""Naive convolution: published figure, numeric gradients over a battery of shapes, PyTorch, validation."""
import numpy as np
import pytest

from reference_impl.conv_naive import conv_backward_naive, conv_forward_naive
from reference_impl.gradient_check import eval_numerical_gradient_array, rel_error

# (x shape, w shape, stride, pad): strides 1 and 2, pads 0/1/2, square and non-square filters and inputs.
BATTERY = [
    ((2, 3, 5, 5), (2, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (3, 3, 3, 3), 1, 1),
    ((2, 2, 7, 7), (2, 2, 3, 3), 2, 0),
    ((2, 2, 5, 6), (3, 2, 3, 5), 1, 1),
    ((2, 2, 6, 8), (2, 2, 2, 4), 2, 1),
    ((2, 3, 4, 4), (2, 3, 3, 3), 1, 2),
    ((3, 1, 5, 5), (2, 1, 3, 3), 2, 2),
    ((1, 1, 3, 3), (2, 1, 5, 5), 1, 1),  # filter as large as the padded input: 1x1 output
]
BATTERY_IDS = [f"x{x[2]}x{x[3]}-w{w[2]}x{w[3]}-s{s}-p{p}" for x, w, s, p in BATTERY]


def test_forward_matches_published_linspace_fixture():
    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    correct_out = np.array([[[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                             [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                             [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
                            [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                             [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                             [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])
    out, _ = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (2, 3, 2, 2)
    assert rel_error(out, correct_out) < 1e-7  # published: 2.2e-8, the 8-decimal rounding floor


def test_forward_matches_direct_sum_definition(rng):
    """Each output entry is b[f] + sum over c, di, dj of w[f, c, di, dj] * x_padded[n, c, i*s + di, j*s + dj]."""
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    stride, pad = 2, 1
    out, _ = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    x_padded = np.zeros((2, 2, 7, 8))
    x_padded[:, :, 1:6, 1:7] = x
    expected = np.zeros((2, 3, 3, 4))
    for n, f, i, j, c, di, dj in np.ndindex(2, 3, 3, 4, 2, 3, 2):
        expected[n, f, i, j] += w[f, c, di, dj] * x_padded[n, c, i * stride + di, j * stride + dj]
    expected += b[None, :, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_backward_matches_published_figures():
    """The notebook's check: seed 231, x (4,3,5,5), w (2,3,3,3), stride 1, pad 1 (dx ~1.2e-8, dw ~2.2e-10)."""
    legacy = np.random.RandomState(231)
    x, w, b = legacy.randn(4, 3, 5, 5), legacy.randn(2, 3, 3, 3), legacy.randn(2)
    dout = legacy.randn(4, 2, 5, 5)
    conv_param = {"stride": 1, "pad": 1}
    dx_num = eval_numerical_gradient_array(lambda v: conv_forward_naive(v, w, b, conv_param)[0], x.copy(), dout)
    dw_num = eval_numerical_gradient_array(lambda v: conv_forward_naive(x, v, b, conv_param)[0], w.copy(), dout)
    db_num = eval_numerical_gradient_array(lambda v: conv_forward_naive(x, w, v, conv_param)[0], b.copy(), dout)
    _, cache = conv_forward_naive(x, w, b, conv_param)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-9


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", BATTERY, ids=BATTERY_IDS)
def test_backward_matches_numeric_gradient(x_shape, w_shape, stride, pad, rng, backward_errors):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    errors = backward_errors(conv_forward_naive, conv_backward_naive, (x, w, b), ({"stride": stride, "pad": pad},),
                             rng=rng)
    assert max(errors) < 1e-7, dict(zip("dx dw db".split(), errors))


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", BATTERY, ids=BATTERY_IDS)
def test_matches_pytorch_forward_and_autograd(x_shape, w_shape, stride, pad, rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    t_out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
    t_out.backward(torch.tensor(dout))
    for mine, theirs in ((out, t_out), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_inputs_and_cache_are_not_modified(rng, unchanged):
    snapshot, assert_unchanged = unchanged
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    conv_param = {"stride": 2, "pad": 1}
    before = snapshot((x, w, b, conv_param))
    out, cache = conv_forward_naive(x, w, b, conv_param)
    assert_unchanged(before, (x, w, b, conv_param))
    dout = rng.standard_normal(out.shape)
    before = snapshot((dout, cache))
    conv_backward_naive(dout, cache)
    assert_unchanged(before, (dout, cache))


def test_float32_stays_float32(rng):
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 5, 5), (2, 3, 3, 3), (2,)))
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    grads = conv_backward_naive(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3


GOOD = dict(x=(2, 3, 5, 5), w=(4, 3, 3, 3), b=(4,), stride=1, pad=1)


@pytest.mark.parametrize("change, error, message", [
    (dict(x=(3, 5, 5)), ValueError, r"x \(N, C, H, W\)"),
    (dict(w=(4, 3, 3)), ValueError, r"w \(F, C, HH, WW\)"),
    (dict(w=(4, 2, 3, 3)), ValueError, "x has 3 channels and w expects 2"),
    (dict(b=(3,)), ValueError, "b has 3 entries for 4 filters"),
    (dict(stride=0), ValueError, "stride=0"),
    (dict(pad=-1), ValueError, "pad=-1"),
    (dict(stride=1.5), TypeError, "stride=1.5"),
    (dict(w=(4, 3, 8, 3)), ValueError, "filter 8x3 is larger than the padded input 7x7"),
    (dict(stride=2, pad=0, x=(2, 3, 6, 6)), ValueError, r"\(H \+ 2\*pad - HH\) = 3 .* multiples of the stride"),
])
def test_invalid_inputs_raise_specific_errors(change, error, message):
    spec = {**GOOD, **change}
    x, w, b = np.zeros(spec["x"]), np.zeros(spec["w"]), np.zeros(spec["b"])
    with pytest.raises(error, match=message):
        conv_forward_naive(x, w, b, {"stride": spec["stride"], "pad": spec["pad"]})


def test_backward_rejects_dout_of_wrong_shape():
    _, cache = conv_forward_naive(np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros(4),
                                    {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"dout has shape \(2, 4, 4, 4\); the forward output had shape"):
        conv_backward_naive(np.zeros((2, 4, 4, 4)), cache)
