"""Training and evaluating the TensorFlow models: accuracy, training loops, predictions from saved weights.

Provided to students (no graded code here). Two loops, as in the assignment: ``train_barebones`` for a forward
function with a list of variables, stepped by a given step function (the student's ``training_step``), and
``train_keras`` for a Keras model and a Keras optimizer. Data come as iterables of (images, labels) NumPy
batches, e.g. ``prep.MiniBatches``. ``open_model_predictions`` is what the grader does with the open-ended
model's weights file, so students can run it themselves.
"""
import numpy as np
import tensorflow as tf

from .weights_file import WEIGHTS_SUFFIX


def softmax_cross_entropy(scores, y):
    """Mean softmax cross-entropy loss of a batch: scores (N, K) logits, y (N,) integer labels -> scalar."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))


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


def train_barebones(model_fn, init_fn, step_fn, learning_rate, train_batches, val_batches, device="/cpu:0",
                    num_epochs=1, print_every=100, verbose=True):
    """Train a barebones model with a step function, checking validation accuracy every ``print_every`` steps.

    Inputs: model_fn(x, params) -> scores; init_fn() -> list of tf.Variable; step_fn(model_fn, x, y, params,
    learning_rate) -> loss, which updates params in place (``training_step``); learning_rate; train_batches and
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
                loss = step_fn(model_fn, x_batch, y_batch, params, learning_rate)
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


def open_model_predictions(build_model, weights_path, images, batch_size=256):
    """Rebuild a model, load its saved weights and predict the class of every image (the grader's side).

    Inputs: build_model, a no-argument function returning a tf.keras.Model; weights_path, a file ending in
    ".weights.h5"; images (N, 32, 32, 3) float32; batch_size of the forward passes.
    Returns: int64 array (N,) of predicted classes.
    Raises ValueError when the file is not a weights file, the model is not a Keras model, or its scores do
    not have one row per image.
    """
    weights_path = str(weights_path)
    if not weights_path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{weights_path}: expected a weights-only file ending in {WEIGHTS_SUFFIX}")
    model = build_model()
    if not isinstance(model, tf.keras.Model):
        raise ValueError(f"build_open_model() returned {type(model).__name__}, not a tf.keras.Model")
    images = np.asarray(images, dtype=np.float32)
    model(images[:1], training=False)  # creates the variables of models built lazily, before loading
    model.load_weights(weights_path)
    predictions = []
    for start in range(0, len(images), batch_size):
        scores = np.asarray(model(images[start:start + batch_size], training=False))  # (B, K)
        if scores.ndim != 2 or len(scores) != len(images[start:start + batch_size]):
            raise ValueError(f"the model returned scores of shape {scores.shape} for "
                             f"{len(images[start:start + batch_size])} images; expected (images, classes)")
        predictions.append(np.argmax(scores, axis=1))
    return np.concatenate(predictions).astype(np.int64)
