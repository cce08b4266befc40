def flatten(x):
    N, H, W, C = x.shape
    return tf.reshape(x, (-1, H * W * C))
