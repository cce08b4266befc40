def three_layer_convnet_sequential(input_shape=(32, 32, 3), num_classes=10):
    return tf.keras.Sequential([
        tf.keras.Input(shape=input_shape),
        tf.keras.layers.Conv2D(16, 5, padding="same", kernel_initializer="he_normal"),
        tf.keras.layers.Conv2D(32, 3, padding="same", kernel_initializer="he_normal"),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal"),
    ])
