"""The three-layer convnet with Keras 3's three ways of defining a model: subclassing, Sequential, functional.

All three compute conv 5x5 (pad 2) - ReLU - conv 3x3 (pad 1) - ReLU - fully connected, with Kaiming (He)
normal weights and zero biases, and give scores (logits, no softmax). They use ``padding="same"``: for odd
kernels with stride 1 that pads (k - 1) / 2 zeros on every side, exactly pad 2 for 5x5 and pad 1 for 3x3.
Their weights, in ``model.get_weights()`` order, are [conv_w1 (5, 5, C, F1), conv_b1, conv_w2 (3, 3, F1, F2),
conv_b2, fc_w (H * W * F2, K), fc_b]: the same list, in the same layouts, as the barebones network's params.
"""
import tensorflow as tf


class ThreeLayerConvNet(tf.keras.Model):
    """The three-layer convnet as a subclass of tf.keras.Model.

    Constructor inputs: channel_1, channel_2 filter counts of the 5x5 and 3x3 convolutions; num_classes K.
    Calling the model on float32 images (N, H, W, C) returns scores (N, K).
    """

    def __init__(self, channel_1, channel_2, num_classes):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = tf.keras.layers.Conv2D(channel_1, 5, padding="same", activation="relu",
                                            kernel_initializer="he_normal", bias_initializer="zeros")
        self.conv2 = tf.keras.layers.Conv2D(channel_2, 3, padding="same", activation="relu",
                                            kernel_initializer="he_normal", bias_initializer="zeros")
        self.flatten = tf.keras.layers.Flatten()
        self.fc = tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal", bias_initializer="zeros")
        ### END SOLUTION

    def call(self, x, training=False):
        """Scores (N, K) for images x (N, H, W, C); ``training`` is unused (no dropout or normalisation)."""
        scores = None
        ### BEGIN SOLUTION
        hidden = self.conv2(self.conv1(x))  # (N, H, W, channel_2)
        scores = self.fc(self.flatten(hidden))  # (N, H * W * channel_2) -> (N, K)
        ### END SOLUTION
        return scores


def three_layer_convnet_sequential(input_shape=(32, 32, 3), num_classes=10):
    """The three-layer convnet with 16 and 32 filters, as a tf.keras.Sequential model.

    Inputs: input_shape (H, W, C) of one image; num_classes K.
    Returns: a built tf.keras.Sequential mapping (N, H, W, C) float32 images to (N, K) scores.
    """
    model = None
    ### BEGIN SOLUTION
    model = tf.keras.Sequential([
        tf.keras.Input(shape=input_shape),
        tf.keras.layers.Conv2D(16, 5, padding="same", activation="relu", kernel_initializer="he_normal"),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
        tf.keras.layers.Flatten(),  # (N, H, W, 32) -> (N, H * W * 32)
        tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal"),
    ])
    ### END SOLUTION
    return model


def sgd_nesterov_optimizer(learning_rate=5e-4):
    """Stochastic gradient descent with Nesterov momentum 0.9, the optimizer for the Sequential model.

    Inputs: learning_rate, a positive float. Returns: a tf.keras.optimizers.SGD.
    """
    optimizer = None
    ### BEGIN SOLUTION
    optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    ### END SOLUTION
    return optimizer


def three_layer_convnet_functional(input_shape=(32, 32, 3), num_classes=10):
    """The Sequential model's network (16 and 32 filters) written with the Keras functional API.

    Inputs: input_shape (H, W, C) of one image; num_classes K.
    Returns: a tf.keras.Model from an Input of shape (None, H, W, C) to scores (None, K).
    """
    model = None
    ### BEGIN SOLUTION
    inputs = tf.keras.Input(shape=input_shape)  # (N, H, W, C)
    hidden = tf.keras.layers.Conv2D(16, 5, padding="same", activation="relu",
                                    kernel_initializer="he_normal")(inputs)  # (N, H, W, 16)
    hidden = tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu",
                                    kernel_initializer="he_normal")(hidden)  # (N, H, W, 32)
    scores = tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal")(
        tf.keras.layers.Flatten()(hidden))  # (N, H * W * 32) -> (N, K)
    model = tf.keras.Model(inputs=inputs, outputs=scores)
    ### END SOLUTION
    return model
