def three_layer_convnet(x, params):
    """Explicit zero padding, then VALID convolutions."""
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    h = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]])
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, conv_w1, strides=[1, 1, 1, 1], padding="VALID"), conv_b1))
    h = tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]])
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, conv_w2, strides=[1, 1, 1, 1], padding="VALID"), conv_b2))
    return tf.linalg.matmul(flatten(h), fc_w) + fc_b
