def training_step(model_fn, x, y, params, learning_rate):
    with tf.GradientTape() as tape:
        scores = model_fn(x, params)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))
    grads = tape.gradient(loss, params)
    for p, g in zip(params, grads):
        p.assign_sub(learning_rate * g)
    return loss
