"""The three-layer convnet in "barebones" TensorFlow 2: raw ops on tensors and variables, no Keras layers.

Architecture (images NHWC, kernels HWIO, as TensorFlow stores them):
conv (channel_1 filters, zero padding 2) - ReLU - conv (channel_2 filters, zero padding 1) - ReLU - fully connected.

The padding is written out explicitly rather than as "SAME": the assignment specifies pad 2 and pad 1, and
"SAME" only means that for the 5x5 and 3x3 kernels (for even kernels it pads unevenly).
Each graded function is self-contained (it may call the graded functions defined before it), so the notebook
can copy exactly one function per cell.
"""
import numpy as np
import tensorflow as tf

def flatten(x):
    """Flatten every sample of a batch into one row.

    Inputs: x, a tensor (or array) of shape (N, D1, ..., DM).
    Returns: tensor of shape (N, D1 * ... * DM), the entries of each sample in row-major (C) order; for an
    NHWC image batch the channel index varies fastest.
    """
    flat = None
    ### BEGIN SOLUTION
    batch_size = tf.shape(x)[0]  # dynamic, so a smaller last batch works too
    flat = tf.reshape(x, (batch_size, -1))  # (N, D1, ..., DM) -> (N, D1 * ... * DM)
    ### END SOLUTION
    return flat


def three_layer_convnet(x, params):
    """Forward pass of the three-layer convnet with raw TensorFlow ops.

    Inputs:
    - x: float32 tensor (N, H, W, C) of images.
    - params: [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b], tensors or variables:
      conv_w1 (KH1, KW1, C, channel_1), conv_b1 (channel_1,), conv_w2 (KH2, KW2, channel_1, channel_2),
      conv_b2 (channel_2,), fc_w (H2 * W2 * channel_2, K), fc_b (K,), where H2 = H + 4 - KH1 + 1 + 2 - KH2 + 1
      (H for 5x5 and 3x3 kernels) and likewise W2; fc_w's rows follow the NHWC flatten of the second
      convolution's output.
    Returns: scores, float32 tensor (N, K).
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    scores = None
    ### BEGIN SOLUTION
    # Explicit zero padding per NHWC axis: none on the batch and channel axes, 2 (then 1) rows and columns.
    conv1 = tf.nn.conv2d(x, conv_w1, strides=1, padding=[[0, 0], [2, 2], [2, 2], [0, 0]])  # (N, H1, W1, channel_1)
    hidden1 = tf.nn.relu(conv1 + conv_b1)
    conv2 = tf.nn.conv2d(hidden1, conv_w2, strides=1, padding=[[0, 0], [1, 1], [1, 1], [0, 0]])  # (N, H2, W2, ch_2)
    hidden2 = tf.nn.relu(conv2 + conv_b2)
    scores = tf.matmul(flatten(hidden2), fc_w) + fc_b  # (N, H2 * W2 * channel_2) @ (.., K) -> (N, K)
    ### END SOLUTION
    return scores


def create_matrix_with_kaiming_normal(shape):
    """Random weights with Kaiming (He) normal initialisation: N(0, 2 / fan_in), not truncated.

    Inputs: shape, (D, M) for a fully connected layer (fan_in = D) or (KH, KW, C_in, C_out) for a convolution
    kernel (fan_in = KH * KW * C_in).
    Returns: float32 tensor of that shape.
    Raises ValueError for any other number of dimensions.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 4):
        raise ValueError(f"expected a 2-d (D, M) or 4-d (KH, KW, C_in, C_out) shape, got {shape}")
    weights = None
    ### BEGIN SOLUTION
    fan_in = int(np.prod(shape[:-1]))  # inputs feeding one output unit
    weights = tf.random.normal(shape, mean=0.0, stddev=np.sqrt(2.0 / fan_in), dtype=tf.float32)
    ### END SOLUTION
    return weights


def three_layer_convnet_init(channel_1=32, channel_2=16, num_classes=10, image_shape=(32, 32, 3)):
    """Trainable parameters for ``three_layer_convnet`` with 5x5 then 3x3 kernels (which keep the image size).

    Inputs: channel_1, channel_2 filter counts; num_classes K; image_shape (H, W, C) of the inputs.
    Returns: list of six float32 tf.Variable: conv_w1 (5, 5, C, channel_1), conv_b1 (channel_1,),
    conv_w2 (3, 3, channel_1, channel_2), conv_b2 (channel_2,), fc_w (H * W * channel_2, K), fc_b (K,);
    weights Kaiming-normal, biases zero.
    """
    height, width, in_channels = image_shape
    params = None
    ### BEGIN SOLUTION
    conv_w1 = tf.Variable(create_matrix_with_kaiming_normal((5, 5, in_channels, channel_1)))
    conv_b1 = tf.Variable(tf.zeros((channel_1,)))
    conv_w2 = tf.Variable(create_matrix_with_kaiming_normal((3, 3, channel_1, channel_2)))
    conv_b2 = tf.Variable(tf.zeros((channel_2,)))
    fc_w = tf.Variable(create_matrix_with_kaiming_normal((height * width * channel_2, num_classes)))
    fc_b = tf.Variable(tf.zeros((num_classes,)))
    params = [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]
    ### END SOLUTION
    return params


def training_step(model_fn, x, y, params, learning_rate):
    """One step of plain gradient descent on a mini-batch, updating the variables in place.

    Inputs:
    - model_fn: forward function, scores (N, K) = model_fn(x, params).
    - x: float32 images (N, H, W, C); y: integer labels (N,).
    - params: list of tf.Variable, the model's parameters; each becomes w - learning_rate * dloss/dw.
    - learning_rate: positive float.
    Returns: the batch's mean softmax cross-entropy loss before the update, a scalar float32 tensor.
    """
    loss = None
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        scores = model_fn(x, params)  # (N, K)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))
    gradients = tape.gradient(loss, params)
    for variable, gradient in zip(params, gradients):
        variable.assign_sub(learning_rate * gradient)
    ### END SOLUTION
    return loss
