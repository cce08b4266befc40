def sgd_nesterov_optimizer(learning_rate=5e-4):
    return tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
