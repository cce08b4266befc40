"""The open-ended part: a model of the student's own design, graded from its saved weights.

Contract with the grader (stated in the notebook as well):
- the notebook defines ``build_open_model()``, which takes no arguments and returns an untrained tf.keras.Model
  mapping float32 images (N, 32, 32, 3), normalised per channel as ``prep.load_cifar10_for_framework`` does,
  to class scores (N, 10) (logits or probabilities: only the largest one counts);
- the trained weights are saved with ``model.save_weights(OPEN_MODEL_WEIGHTS)`` next to the notebook. A
  ``.weights.h5`` file holds arrays only, no code; a full ``.keras`` or legacy ``.h5`` model is refused;
- the grader rebuilds the model in its sandbox from ``build_open_model()``, loads the weights with
  ``open_model_predictions`` and returns the predicted classes of held-out images; the labels stay with the
  grader, which turns the predictions into an accuracy.
"""
import numpy as np
import tensorflow as tf

OPEN_MODEL_WEIGHTS = "open_model.weights.h5"
WEIGHTS_SUFFIX = ".weights.h5"


def _conv_block(filters):
    """Conv 3x3 (same size) - batch norm - ReLU; no conv bias, batch norm's shift replaces it."""
    return [tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal"),
            tf.keras.layers.BatchNormalization(),
            tf.keras.layers.ReLU()]


def build_open_model(num_classes=10):
    """A reference model for the open-ended part: three stages of two conv blocks, global average pooling.

    32x32 -> 16x16 -> 8x8 with 32, 64, 128 filters; dropout before the classifier.
    Returns: an untrained tf.keras.Sequential, (N, 32, 32, 3) float32 images -> (N, num_classes) logits.
    """
    model = None
    ### BEGIN SOLUTION
    layers = [tf.keras.Input(shape=(32, 32, 3))]
    for stage, filters in enumerate((32, 64, 128)):
        layers += _conv_block(filters) + _conv_block(filters)
        if stage < 2:
            layers.append(tf.keras.layers.MaxPooling2D(2))  # halve height and width
    layers += [tf.keras.layers.GlobalAveragePooling2D(),  # (N, 8, 8, 128) -> (N, 128)
               tf.keras.layers.Dropout(0.3),
               tf.keras.layers.Dense(num_classes)]
    model = tf.keras.Sequential(layers)
    ### END SOLUTION
    return model


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
