def three_layer_convnet_sequential(input_shape=(32, 32, 3), num_classes=10):
    """Built with add()."""
    model = tf.keras.Sequential()
    model.add(tf.keras.Input(shape=input_shape))
    model.add(tf.keras.layers.Conv2D(16, 5, padding="same", kernel_initializer="he_normal"))
    model.add(tf.keras.layers.Activation("relu"))
    model.add(tf.keras.layers.Conv2D(32, 3, padding="same", kernel_initializer="he_normal"))
    model.add(tf.keras.layers.Activation("relu"))
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal"))
    return model
