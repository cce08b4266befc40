def three_layer_convnet_functional(input_shape=(32, 32, 3), num_classes=10):
    inputs = tf.keras.Input(shape=input_shape)
    h = tf.keras.layers.Conv2D(16, 5, padding="same", activation="relu", kernel_initializer="he_normal")(inputs)
    h = tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal")(h)
    scores = tf.keras.layers.Dense(num_classes, activation="softmax")(tf.keras.layers.Flatten()(h))
    return tf.keras.Model(inputs=inputs, outputs=scores)
