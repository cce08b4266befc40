"""Training and evaluating the TensorFlow models: one explicit SGD step, accuracy, and one-epoch loops.

Two loops, as in the assignment: ``train_barebones`` for a forward function with a list of variables
(gradients from tf.GradientTape, plain SGD written by hand), and ``train_keras`` for a Keras model and a Keras
optimizer. Data come as iterables of (images, labels) NumPy batches, e.g. ``prep.MiniBatches``.
"""
import numpy as np
import tensorflow as tf


def softmax_cross_entropy(scores, y):
    """Mean softmax cross-entropy loss of a batch: scores (N, K) logits, y (N,) integer labels -> scalar."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))


def training_step(model_fn, x, y, params, learning_rate):
    """One step of plain gradient descent on a mini-batch, updating the variables in place.

    Inputs:
    - model_fn: forward function, scores (N, K) = model_fn(x, params).
    - x: float32 images (N, H, W, C); y: integer labels (N,).
    - params: list of tf.Variable, the model's parameters; each becomes w - learning_rate * dloss/dw.
    - learning_rate: positive float.
    Returns: the batch's mean softmax cross-entropy loss before the update, a scalar float32 tensor.
    """
    loss = None
    ### BEGIN SOLUTION
    with tf.GradientTape() as tape:
        scores = model_fn(x, params)  # (N, K)
        loss = softmax_cross_entropy(scores, y)
    gradients = tape.gradient(loss, params)
    for variable, gradient in zip(params, gradients):
        variable.assign_sub(learning_rate * gradient)
    ### END SOLUTION
    return loss


def check_accuracy(batches, scores_fn):
    """Fraction of correctly classified images, the prediction being the highest score.

    Inputs: batches, an iterable of (x (B, H, W, C), y (B,)) NumPy batches; scores_fn, x -> scores (B, K).
    Returns: accuracy as a Python float in [0, 1]. Raises ValueError when the batches hold no image.
    """
    correct, total = 0, 0
    for x_batch, y_batch in batches:
        predictions = np.argmax(np.asarray(scores_fn(x_batch)), axis=1)  # (B,)
        correct += int(np.sum(predictions == np.asarray(y_batch)))
        total += len(y_batch)
    if total == 0:
        raise ValueError("check_accuracy got no images")
    return correct / total


def _report(history, step, loss, accuracy, verbose):
    history["step"].append(step)
    history["loss"].append(float(loss))
    history["val_accuracy"].append(accuracy)
    if verbose:
        print(f"iteration {step}: loss {float(loss):.4f}, validation accuracy {100 * accuracy:.2f}%")


def train_barebones(model_fn, init_fn, learning_rate, train_batches, val_batches, device="/cpu:0",
                    num_epochs=1, print_every=100, verbose=True):
    """Train a barebones model with ``training_step``, checking validation accuracy every ``print_every`` steps.

    Inputs: model_fn(x, params) -> scores; init_fn() -> list of tf.Variable; learning_rate; train_batches and
    val_batches, re-iterable (x, y) batches; device name for tf.device; num_epochs; print_every (steps);
    verbose prints each check.
    Returns: (params, history); history has lists "step", "loss", "val_accuracy" (one entry per check, and one
    after the last step).
    """
    history = {"step": [], "loss": [], "val_accuracy": []}
    with tf.device(device):
        params = init_fn()
        step, loss = 0, float("nan")
        for _ in range(num_epochs):
            for x_batch, y_batch in train_batches:
                loss = training_step(model_fn, x_batch, y_batch, params, learning_rate)
                if step % print_every == 0:
                    _report(history, step, loss, check_accuracy(val_batches, lambda x: model_fn(x, params)),
                            verbose)
                step += 1
        _report(history, step, loss, check_accuracy(val_batches, lambda x: model_fn(x, params)), verbose)
    return params, history


def train_keras(model_init_fn, optimizer_init_fn, train_batches, val_batches, device="/cpu:0", num_epochs=1,
                print_every=100, verbose=True):
    """Train a Keras model with its optimizer, one GradientTape step per mini-batch.

    The model is called with ``training=True`` while training and ``training=False`` while evaluating, so
    batch normalisation and dropout behave as they should.
    Inputs: model_init_fn() -> tf.keras.Model giving scores (logits); optimizer_init_fn() -> Keras optimizer;
    the rest as ``train_barebones``.
    Returns: (model, history) as ``train_barebones``.
    """
    history = {"step": [], "loss": [], "val_accuracy": []}
    with tf.device(device):
        model = model_init_fn()
        optimizer = optimizer_init_fn()

        def evaluate():
            return check_accuracy(val_batches, lambda x: model(x, training=False))

        step, loss = 0, float("nan")
        for _ in range(num_epochs):
            for x_batch, y_batch in train_batches:
                with tf.GradientTape() as tape:
                    loss = softmax_cross_entropy(model(x_batch, training=True), y_batch)
                gradients = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))
                if step % print_every == 0:
                    _report(history, step, loss, evaluate(), verbose)
                step += 1
        _report(history, step, loss, evaluate(), verbose)
    return model, history
