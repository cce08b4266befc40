def training_step(model_fn, x, y, params, learning_rate):
    """Loss with tf.reduce_mean; update through zip."""
    with tf.GradientTape() as tape:
        scores = model_fn(x, params)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))
    for param, grad in zip(params, tape.gradient(loss, params)):
        param.assign(param - learning_rate * grad)
    return loss
