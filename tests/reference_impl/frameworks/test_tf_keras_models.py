"""Keras versions of the three-layer convnet: shapes, initialisation, and scores equal to the barebones net's
and the NumPy layers' when they are given the same weights."""
import numpy as np
import pytest
import tensorflow as tf

from reference_impl.frameworks.layouts import nhwc_to_nchw, three_layer_params_tf_to_numpy
from reference_impl.frameworks.numpy_net import three_layer_convnet_scores
from reference_impl.frameworks.tf_barebones import three_layer_convnet
from reference_impl.frameworks.tf_keras_models import (ThreeLayerConvNet, sgd_nesterov_optimizer,
                                                       three_layer_convnet_functional,
                                                       three_layer_convnet_sequential)

IMAGE_SHAPE, CLASSES = (10, 7, 3), 6  # non-square images, not CIFAR's class count

BUILDERS = {
    "module": lambda: ThreeLayerConvNet(8, 5, CLASSES),
    "sequential": lambda: three_layer_convnet_sequential(IMAGE_SHAPE, CLASSES),
    "functional": lambda: three_layer_convnet_functional(IMAGE_SHAPE, CLASSES),
}
CHANNELS = {"module": (8, 5), "sequential": (16, 32), "functional": (16, 32)}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_keras_net_equals_barebones_and_numpy_with_the_same_weights(rng, kind):
    model = BUILDERS[kind]()
    x = rng.standard_normal((3, *IMAGE_SHAPE)).astype(np.float32)
    assert model(x).shape == (3, CLASSES)  # also builds a subclassed model's variables
    channel_1, channel_2 = CHANNELS[kind]
    height, width, channels = IMAGE_SHAPE
    shapes = [(5, 5, channels, channel_1), (channel_1,), (3, 3, channel_1, channel_2), (channel_2,),
              (height * width * channel_2, CLASSES), (CLASSES,)]
    assert [tuple(w.shape) for w in model.get_weights()] == shapes
    for bias in model.get_weights()[1::2]:
        np.testing.assert_array_equal(bias, 0)
    weights = [(rng.standard_normal(shape) * (0.1 if len(shape) > 1 else 1.0)).astype(np.float32)
               for shape in shapes]
    model.set_weights(weights)
    scores = np.asarray(model(x, training=False))
    barebones = three_layer_convnet(tf.constant(x), [tf.constant(w) for w in weights]).numpy()
    expected = three_layer_convnet_scores(nhwc_to_nchw(x).astype(np.float64),
                                          three_layer_params_tf_to_numpy(weights, (height, width)))
    scale = np.abs(expected).max()
    np.testing.assert_allclose(scores, barebones, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4 * scale)


def test_module_net_kernels_are_he_normal(init_bounds):
    _, _, bounded_bounds = init_bounds
    model = ThreeLayerConvNet(32, 16, 10)
    model(np.zeros((1, 32, 32, 3), dtype=np.float32))
    fc_w = model.get_weights()[4].astype(np.float64)  # (32 * 32 * 16, 10)
    # he_normal is a normal truncated at 2 of its own standard deviations, rescaled so its variance is
    # 2 / fan_in: the squares are at most (2 / 0.8796)**2 = 5.17 times that variance.
    low, high = bounded_bounds(fc_w.size, (2.0 / 0.87962566103423978) ** 2)
    ratio = np.mean(fc_w ** 2) / (2.0 / fc_w.shape[0])
    assert low < ratio < high, f"mean square / (2 / fan_in) = {ratio:.4f}, outside [{low:.4f}, {high:.4f}]"


def test_sequential_optimizer_is_sgd_with_nesterov_momentum():
    optimizer = sgd_nesterov_optimizer(5e-4)
    assert isinstance(optimizer, tf.keras.optimizers.SGD)
    config = optimizer.get_config()
    assert config["nesterov"] is True and config["momentum"] == pytest.approx(0.9)
    assert config["learning_rate"] == pytest.approx(5e-4)
