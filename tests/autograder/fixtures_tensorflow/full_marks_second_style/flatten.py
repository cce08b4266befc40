def flatten(x):
    """Keep the batch axis, merge the others."""
    x = tf.convert_to_tensor(x)
    return tf.reshape(x, tf.stack([tf.shape(x)[0], tf.reduce_prod(tf.shape(x)[1:])]))
