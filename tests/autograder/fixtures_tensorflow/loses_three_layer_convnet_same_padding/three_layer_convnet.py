def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    h1 = tf.nn.relu(tf.nn.conv2d(x, conv_w1, 1, "SAME") + conv_b1)
    h2 = tf.nn.relu(tf.nn.conv2d(h1, conv_w2, 1, "SAME") + conv_b2)
    return tf.matmul(flatten(h2), fc_w) + fc_b
