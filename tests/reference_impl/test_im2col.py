"""im2col/col2im: both backends against an explicit-loop definition, adjointness, and the backend selection."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from reference_impl import im2col

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# (x shape (N, C, H, W), field height, field width, pad, stride): square and non-square windows, all strides
# and paddings of the battery, windows that do not tile, and a window taller than the unpadded image.
GEOMETRIES = [
    ((2, 3, 5, 5), 3, 3, 1, 1),
    ((2, 2, 7, 9), 3, 5, 0, 2),
    ((3, 2, 7, 8), 2, 4, 2, 3),
    ((1, 3, 6, 5), 5, 2, 1, 2),
    ((2, 1, 4, 4), 1, 1, 0, 1),
    ((2, 2, 2, 3), 4, 3, 2, 1),
    ((1, 1, 1, 1), 5, 5, 2, 1),
]


def loop_im2col(x, field_height, field_width, pad, stride):
    """The documented layout, written as plain loops: cols[n, (c, i, j), (oh, ow)]."""
    N, C, H, W = x.shape
    H_out = 1 + (H + 2 * pad - field_height) // stride
    W_out = 1 + (W + 2 * pad - field_width) // stride
    cols = np.zeros((N, C * field_height * field_width, H_out * W_out), dtype=x.dtype)
    for n, c, i, j, oh, ow in np.ndindex(N, C, field_height, field_width, H_out, W_out):
        row, col = oh * stride + i - pad, ow * stride + j - pad
        if 0 <= row < H and 0 <= col < W:
            cols[n, (c * field_height + i) * field_width + j, oh * W_out + ow] = x[n, c, row, col]
    return cols


def backends():
    """(im2col, col2im) of every backend: NumPy always, the extension when it is built."""
    found = [pytest.param((im2col.im2col_numpy, im2col.col2im_numpy), id="numpy")]
    try:
        from reference_impl import im2col_cython
    except ImportError:
        found.append(pytest.param(None, id="cython", marks=pytest.mark.skip("extension not built")))
    else:
        found.append(pytest.param((im2col_cython.im2col, im2col_cython.col2im), id="cython"))
    return found


@pytest.fixture(params=backends())
def backend(request):
    return request.param


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, field_height, field_width, pad, stride", GEOMETRIES)
def test_im2col_matches_loop_definition(backend, rng, dtype, shape, field_height, field_width, pad, stride):
    to_cols, _ = backend
    x = rng.standard_normal(shape).astype(dtype)
    cols = to_cols(x, field_height, field_width, pad, stride)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, loop_im2col(x, field_height, field_width, pad, stride))


@pytest.mark.parametrize("shape, field_height, field_width, pad, stride", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(backend, rng, shape, field_height, field_width, pad, stride):
    # <im2col(x), c> == <x, col2im(c)> for all x, c defines col2im independently of either implementation.
    to_cols, to_image = backend
    x = rng.standard_normal(shape)
    c = rng.standard_normal(loop_im2col(x, field_height, field_width, pad, stride).shape)
    back = to_image(c, *shape, field_height, field_width, pad, stride)
    assert back.shape == shape and back.dtype == np.float64
    np.testing.assert_allclose(np.vdot(to_cols(x, field_height, field_width, pad, stride), c),
                               np.vdot(x, back), rtol=1e-12)


def test_col2im_accumulates_overlaps_in_float32(backend, rng):
    _, to_image = backend
    ones = np.ones((1, 9, 9), dtype=np.float32)  # 3x3 windows, stride 1, pad 1 over a 3x3 image
    counts = to_image(ones, 1, 1, 3, 3, 3, 3, 1, 1)
    assert counts.dtype == np.float32
    # Each pixel is covered by as many windows as its neighbourhood has pixels: 4 at corners, 9 in the middle.
    np.testing.assert_array_equal(counts[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_selected_functions_agree_with_fallback(rng):
    x = rng.standard_normal((2, 3, 7, 9))
    np.testing.assert_array_equal(im2col.im2col(x, 3, 5, 1, 2), im2col.im2col_numpy(x, 3, 5, 1, 2))
    assert im2col.BACKEND in ("cython", "numpy")


def test_integer_input_is_accepted_by_either_backend():
    x = np.arange(2 * 1 * 4 * 4).reshape(2, 1, 4, 4)
    np.testing.assert_array_equal(im2col.im2col(x, 2, 2, 0, 2), loop_im2col(x, 2, 2, 0, 2))


@pytest.mark.parametrize("bad", [dict(field_height=9), dict(stride=0), dict(pad=-1)])
def test_bad_geometry_is_a_clear_value_error(backend, bad):
    to_cols, _ = backend
    args = dict(field_height=3, field_width=3, pad=1, stride=1) | bad
    with pytest.raises(ValueError, match="stride|larger|exceeds"):
        to_cols(np.zeros((1, 1, 4, 4)), args["field_height"], args["field_width"], args["pad"], args["stride"])


def test_col2im_rejects_columns_of_the_wrong_shape(backend):
    _, to_image = backend
    with pytest.raises(ValueError, match="does not match|has shape"):
        to_image(np.zeros((1, 9, 15)), 1, 1, 4, 4, 3, 3, 1, 1)  # 4x4 output needs 16 columns


def test_extension_is_selected_when_built():
    pytest.importorskip("reference_impl.im2col_cython")
    if os.environ.get("CONVKIT_NO_CYTHON") == "1":
        pytest.skip("CONVKIT_NO_CYTHON=1 forces the fallback in this run")
    assert im2col.BACKEND == "cython"


def run_isolated(code, **env):
    """Run code in a fresh interpreter (the backend is chosen at import time) and return its stdout."""
    environment = {k: v for k, v in os.environ.items() if k != "CONVKIT_NO_CYTHON"} | env
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), environment.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=environment, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


USE_LAYERS_TWICE = """
    import json
    import warnings
    import numpy as np
    {prelude}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from reference_impl import im2col, fast_layers
        rng = np.random.default_rng(0)
        x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
        for _ in range(2):
            out, cache = fast_layers.conv_forward_fast(x, w, b, {{"stride": 1, "pad": 1}})
            dx, dw, db = fast_layers.conv_backward_fast(np.ones_like(out), cache)
            pooled, pool_cache = fast_layers.max_pool_forward_fast(x, {{"pool_height": 3, "pool_width": 2,
                                                                         "stride": 1}})
            fast_layers.max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    print(json.dumps([im2col.BACKEND, [str(w.message) for w in caught], dx.shape]))
"""


def test_missing_extension_warns_once_and_falls_back():
    # Blocking the submodule makes `from . import im2col_cython` raise ImportError, as when it was never built.
    prelude = "import sys; sys.modules['reference_impl.im2col_cython'] = None"
    backend, messages, dx_shape = json.loads(run_isolated(USE_LAYERS_TWICE.format(prelude=prelude)))
    assert backend == "numpy"
    assert len(messages) == 1, messages
    assert all(hint in messages[0] for hint in ("not built", "build_ext --inplace", "CONVKIT_NO_CYTHON"))
    assert dx_shape == [2, 3, 6, 6]


def test_environment_variable_forces_the_fallback_silently():
    output = run_isolated(USE_LAYERS_TWICE.format(prelude=""), CONVKIT_NO_CYTHON="1")
    assert json.loads(output) == ["numpy", [], [2, 3, 6, 6]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, field_height, field_width, pad, stride", GEOMETRIES)
def test_batch_axis_1_puts_the_image_index_inside(backend, rng, dtype, shape, field_height, field_width, pad,
                                                   stride):
    # cols[k, n, q] with batch_axis=1 is cols[n, k, q] of the default layout; col2im reads either layout.
    to_cols, to_image = backend
    x = rng.standard_normal(shape).astype(dtype)
    expected = loop_im2col(x, field_height, field_width, pad, stride)
    cols = to_cols(x, field_height, field_width, pad, stride, batch_axis=1)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, expected.transpose(1, 0, 2))
    c = rng.standard_normal(expected.shape).astype(dtype)
    back = to_image(np.ascontiguousarray(c.transpose(1, 0, 2)), *shape, field_height, field_width, pad, stride,
                    batch_axis=1)
    assert back.dtype == dtype
    np.testing.assert_allclose(back, to_image(c, *shape, field_height, field_width, pad, stride),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 0)


@pytest.mark.parametrize("batch_axis", [0, 1])
def test_out_argument_is_overwritten_and_returned(backend, rng, batch_axis):
    to_cols, to_image = backend
    x = rng.standard_normal((3, 2, 7, 8))
    cols = to_cols(x, 2, 4, 2, 3, batch_axis=batch_axis)
    buffer = np.full(cols.shape, np.nan)
    assert to_cols(x, 2, 4, 2, 3, batch_axis=batch_axis, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, cols)
    image = np.full(x.shape, np.nan)  # previous contents must not leak into the sums
    assert to_image(cols, *x.shape, 2, 4, 2, 3, batch_axis=batch_axis, out=image) is image
    np.testing.assert_array_equal(image, to_image(cols, *x.shape, 2, 4, 2, 3, batch_axis=batch_axis))


def test_bad_batch_axis_or_out_is_a_value_error(backend):
    to_cols, to_image = backend
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="batch_axis"):
        to_cols(x, 3, 3, 1, 1, batch_axis=2)
    with pytest.raises(ValueError, match="out must be"):
        to_cols(x, 3, 3, 1, 1, out=np.zeros((1, 9, 15)))
    with pytest.raises(ValueError, match="out must be"):
        to_image(np.zeros((1, 9, 16)), 1, 1, 4, 4, 3, 3, 1, 1, out=np.zeros((1, 1, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="does not match|has shape"):
        to_image(np.zeros((1, 9, 16)), 1, 1, 4, 4, 3, 3, 1, 1, batch_axis=1)  # (9, 1, 16) expected
