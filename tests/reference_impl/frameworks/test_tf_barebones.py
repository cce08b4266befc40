"""Barebones TensorFlow three-layer convnet: flatten, forward pass against the NumPy layers, initialisation."""
import numpy as np
import pytest
import tensorflow as tf

from reference_impl.frameworks.layouts import nhwc_to_nchw, three_layer_params_tf_to_numpy
from reference_impl.frameworks.numpy_net import three_layer_convnet_scores
from reference_impl.frameworks.tf_barebones import (create_matrix_with_kaiming_normal, flatten,
                                                    three_layer_convnet, three_layer_convnet_init)


def test_flatten_keeps_the_batch_and_row_major_order(rng):
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    flat = flatten(tf.constant(x))
    assert flat.shape == (3, 40)
    np.testing.assert_array_equal(flat.numpy(), x.reshape(3, -1))


def test_seed_shape_check_gives_64_by_10_scores():
    params = [tf.zeros((5, 5, 3, 6)), tf.zeros((6,)), tf.zeros((3, 3, 6, 9)), tf.zeros((9,)),
              tf.zeros((32 * 32 * 9, 10)), tf.zeros((10,))]
    scores = three_layer_convnet(np.zeros((64, 32, 32, 3), dtype=np.float32), params)
    assert scores.shape == (64, 10)


@pytest.mark.parametrize("image_hw, kernel_1, kernel_2", [((32, 32), (5, 5), (3, 3)),
                                                         ((6, 9), (3, 5), (2, 3))])
def test_forward_equals_the_numpy_layers(rng, image_hw, kernel_1, kernel_2):
    """Same images and weights, converted to NCHW/OIHW: the kit's NumPy layers give the same scores."""
    channels, channel_1, channel_2, classes, batch = 3, 4, 5, 7, 3
    height2 = image_hw[0] + 4 - kernel_1[0] + 1 + 2 - kernel_2[0] + 1
    width2 = image_hw[1] + 4 - kernel_1[1] + 1 + 2 - kernel_2[1] + 1
    params = [rng.standard_normal((*kernel_1, channels, channel_1)) * 0.3, rng.standard_normal(channel_1),
              rng.standard_normal((*kernel_2, channel_1, channel_2)) * 0.3, rng.standard_normal(channel_2),
              rng.standard_normal((height2 * width2 * channel_2, classes)) * 0.1, rng.standard_normal(classes)]
    params = [p.astype(np.float32) for p in params]
    x = rng.standard_normal((batch, *image_hw, channels)).astype(np.float32)
    scores = three_layer_convnet(tf.constant(x), [tf.constant(p) for p in params]).numpy()
    expected = three_layer_convnet_scores(nhwc_to_nchw(x).astype(np.float64),
                                          three_layer_params_tf_to_numpy(params, image_hw))
    assert scores.shape == (batch, classes)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("shape", [(4096, 10), (5, 5, 3, 200)])
def test_kaiming_normal_has_zero_mean_and_variance_two_over_fan_in(init_bounds, shape):
    variance_bounds, mean_bound, _ = init_bounds
    weights = create_matrix_with_kaiming_normal(shape)
    assert isinstance(weights, tf.Tensor) and weights.dtype == tf.float32 and tuple(weights.shape) == shape
    values = weights.numpy().astype(np.float64).ravel()
    sigma = np.sqrt(2.0 / np.prod(shape[:-1]))
    low, high = variance_bounds(values.size)
    assert 0.5 < low < high < 2.0, "the bounds must be able to catch sqrt(1/fan_in) and similar slips"
    ratio = np.mean(values ** 2) / sigma ** 2
    assert low < ratio < high, f"mean square / (2 / fan_in) = {ratio:.4f}, outside [{low:.4f}, {high:.4f}]"
    assert abs(values.mean()) < mean_bound(values.size, sigma)
    with pytest.raises(ValueError, match="2-d"):
        create_matrix_with_kaiming_normal((3, 4, 5))


def test_init_gives_trainable_float32_variables_with_zero_biases(init_bounds):
    variance_bounds, _, _ = init_bounds
    params = three_layer_convnet_init(channel_1=8, channel_2=6, num_classes=10, image_shape=(12, 10, 3))
    assert [tuple(p.shape) for p in params] == [(5, 5, 3, 8), (8,), (3, 3, 8, 6), (6,), (12 * 10 * 6, 10), (10,)]
    assert all(isinstance(p, tf.Variable) and p.trainable and p.dtype == tf.float32 for p in params)
    for bias in params[1::2]:
        np.testing.assert_array_equal(bias.numpy(), 0)
    fc_w = params[4].numpy().astype(np.float64)
    low, high = variance_bounds(fc_w.size)
    assert low < np.mean(fc_w ** 2) / (2.0 / (12 * 10 * 6)) < high
    assert [tuple(p.shape) for p in three_layer_convnet_init()][4] == (32 * 32 * 16, 10)  # the seed's defaults
