class ThreeLayerConvNet(tf.keras.Model):
    def __init__(self, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = tf.keras.layers.Conv2D(channel_1, 5, activation="relu", kernel_initializer="he_normal")
        self.conv2 = tf.keras.layers.Conv2D(channel_2, 3, activation="relu", kernel_initializer="he_normal")
        self.flatten = tf.keras.layers.Flatten()
        self.fc = tf.keras.layers.Dense(num_classes, kernel_initializer="he_normal")

    def call(self, x, training=False):
        return self.fc(self.flatten(self.conv2(self.conv1(x))))
