def create_matrix_with_kaiming_normal(shape):
    """N(0, 1) scaled by sqrt(2 / fan_in)."""
    fan_in = int(np.prod(shape[:-1]))
    return tf.random.normal(shape) * tf.sqrt(2.0 / fan_in)
