"""Layout conversions between TensorFlow (NHWC, HWIO) and the NumPy layers (NCHW, OIHW). NumPy only."""
import numpy as np
import pytest

from reference_impl.fc_layers import affine_forward
from reference_impl.frameworks.layouts import (fc_rows_nchw_to_nhwc, fc_rows_nhwc_to_nchw, hwio_to_oihw,
                                               nchw_to_nhwc, nhwc_to_nchw, oihw_to_hwio,
                                               three_layer_params_numpy_to_tf, three_layer_params_tf_to_numpy)


def test_image_and_kernel_conversions_move_each_axis(rng):
    x = rng.standard_normal((2, 5, 4, 3))  # (N, H, W, C)
    nchw = nhwc_to_nchw(x)
    assert nchw.shape == (2, 3, 5, 4) and nchw[1, 2, 3, 1] == x[1, 3, 1, 2]
    np.testing.assert_array_equal(nchw_to_nhwc(nchw), x)
    w = rng.standard_normal((5, 3, 2, 7))  # (KH, KW, C_in, C_out)
    oihw = hwio_to_oihw(w)
    assert oihw.shape == (7, 2, 5, 3) and oihw[6, 1, 4, 2] == w[4, 2, 1, 6]
    np.testing.assert_array_equal(oihw_to_hwio(oihw), w)
    with pytest.raises(ValueError, match="4-d"):
        nhwc_to_nchw(x[0])


def test_fc_rows_follow_the_flatten_order(rng):
    """An NHWC-flattening network and an NCHW-flattening one give the same scores after the row reordering."""
    features = rng.standard_normal((3, 4, 5, 6))  # (N, H, W, C)
    fc_w = rng.standard_normal((4 * 5 * 6, 7))
    scores_nhwc = features.reshape(3, -1) @ fc_w
    fc_w_nchw = fc_rows_nhwc_to_nchw(fc_w, height=4, width=5, channels=6)
    scores_nchw, _ = affine_forward(features.transpose(0, 3, 1, 2), fc_w_nchw, np.zeros(7))
    np.testing.assert_allclose(scores_nchw, scores_nhwc, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fc_rows_nchw_to_nhwc(fc_w_nchw, height=4, width=5, channels=6), fc_w)
    with pytest.raises(ValueError, match="flattens to"):
        fc_rows_nhwc_to_nchw(fc_w, height=5, width=5, channels=6)


def test_three_layer_params_round_trip_for_non_square_kernels(rng):
    # Images 6x7; kernels 3x5 (pad 2) and 2x3 (pad 1) give feature maps 8x7 then 9x7.
    tf_params = [rng.standard_normal((3, 5, 3, 4)), rng.standard_normal(4), rng.standard_normal((2, 3, 4, 5)),
                 rng.standard_normal(5), rng.standard_normal((9 * 7 * 5, 6)), rng.standard_normal(6)]
    numpy_params = three_layer_params_tf_to_numpy(tf_params, (6, 7))
    assert [p.shape for p in numpy_params] == [(4, 3, 3, 5), (4,), (5, 4, 2, 3), (5,), (5 * 9 * 7, 6), (6,)]
    for before, after in zip(tf_params, three_layer_params_numpy_to_tf(numpy_params, (6, 7))):
        np.testing.assert_array_equal(after, before)
    with pytest.raises(ValueError, match="rows"):
        three_layer_params_tf_to_numpy(tf_params, (6, 6))
