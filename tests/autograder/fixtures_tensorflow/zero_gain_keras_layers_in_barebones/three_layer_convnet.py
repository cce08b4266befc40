def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    conv1 = tf.keras.layers.Conv2D(conv_w1.shape[-1], conv_w1.shape[:2], padding="same", activation="relu")
    conv2 = tf.keras.layers.Conv2D(conv_w2.shape[-1], conv_w2.shape[:2], padding="same", activation="relu")
    h = conv2(conv1(x))
    conv1.set_weights([np.asarray(conv_w1), np.asarray(conv_b1)])
    conv2.set_weights([np.asarray(conv_w2), np.asarray(conv_b2)])
    h = tf.reshape(conv2(conv1(x)), (tf.shape(x)[0], -1))
    return tf.matmul(h, fc_w) + fc_b
