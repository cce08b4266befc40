def three_layer_convnet_init(channel_1=32, channel_2=16, num_classes=10, image_shape=(32, 32, 3)):
    height, width, channels = image_shape
    shapes = [(5, 5, channels, channel_1), (channel_1,), (3, 3, channel_1, channel_2), (channel_2,),
              (height * width * channel_2, num_classes), (num_classes,)]
    return [tf.Variable(tf.random.normal(s) * 0.01) for s in shapes]
