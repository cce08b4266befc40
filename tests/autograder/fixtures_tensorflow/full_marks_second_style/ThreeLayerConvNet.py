class ThreeLayerConvNet(tf.keras.Model):
    """Separate ReLU layers and explicit initialiser objects."""

    def __init__(self, channel_1, channel_2, num_classes):
        super().__init__()
        he = tf.keras.initializers.HeNormal()
        self.conv1 = tf.keras.layers.Conv2D(channel_1, (5, 5), padding="same", kernel_initializer=he)
        self.relu1 = tf.keras.layers.ReLU()
        self.conv2 = tf.keras.layers.Conv2D(channel_2, (3, 3), padding="same", kernel_initializer=he)
        self.relu2 = tf.keras.layers.ReLU()
        self.flat = tf.keras.layers.Flatten()
        self.fc = tf.keras.layers.Dense(num_classes, kernel_initializer=he)

    def call(self, x, training=False):
        return self.fc(self.flat(self.relu2(self.conv2(self.relu1(self.conv1(x))))))
