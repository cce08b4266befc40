def flatten(x):
    return tf.keras.layers.Flatten()(x)
