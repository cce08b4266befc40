def build_open_model(num_classes):
    """A reference model: three stages of two conv 3x3 - batch norm - ReLU blocks, global average pooling.

    Sizes 32x32 -> 16x16 -> 8x8 with 32, 64, 128 filters; dropout 0.3 before the classifier.
    Returns: an untrained tf.keras.Sequential, (N, 32, 32, 3) float32 images -> (N, 10) logits.
    """
    model = None
    layers = [tf.keras.Input(shape=(32, 32, 3))]
    for stage, filters in enumerate((32, 64, 128)):
        for _ in range(2):
            # No convolution bias: the batch norm's shift that follows replaces it.
            layers += [tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                              kernel_initializer="he_normal"),
                       tf.keras.layers.BatchNormalization(),
                       tf.keras.layers.ReLU()]
        if stage < 2:
            layers.append(tf.keras.layers.MaxPooling2D(2))  # halves height and width
    layers += [tf.keras.layers.GlobalAveragePooling2D(),  # (N, 8, 8, 128) -> (N, 128)
               tf.keras.layers.Dropout(0.3),
               tf.keras.layers.Dense(num_classes)]
    model = tf.keras.Sequential(layers)
    return model
