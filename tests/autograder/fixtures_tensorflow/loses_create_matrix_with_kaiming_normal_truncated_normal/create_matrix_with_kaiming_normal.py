def create_matrix_with_kaiming_normal(shape):
    fan_in = np.prod(shape[:-1])
    return tf.random.truncated_normal(shape, stddev=np.sqrt(2.0 / fan_in))
