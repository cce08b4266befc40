"""The open-ended part: a reference model for the student's own design, graded from its saved weights.

Contract with the grader (the notebook states it too):
- the notebook defines ``build_open_model()``, which takes no arguments and returns an untrained tf.keras.Model
  mapping float32 images (N, 32, 32, 3), normalised per channel as ``prep.load_cifar10_for_framework`` does,
  to class scores (N, 10) (logits or probabilities: only the largest one counts);
- the trained weights are saved with ``model.save_weights(weights_file.OPEN_MODEL_WEIGHTS)`` next to the
  notebook: arrays only, no code. A full ``.keras`` or legacy ``.h5`` model is refused;
- the grader checks the file (``weights_file.check_keras_weights_file``), rebuilds the model in its sandbox
  from ``build_open_model()``, loads the weights and returns the predicted classes of held-out images
  (``tf_training.open_model_predictions``); the labels stay with the grader, which computes the accuracy.
"""
import tensorflow as tf


def build_open_model():
    """A reference model: three stages of two conv 3x3 - batch norm - ReLU blocks, global average pooling.

    Sizes 32x32 -> 16x16 -> 8x8 with 32, 64, 128 filters; dropout 0.3 before the classifier.
    Returns: an untrained tf.keras.Sequential, (N, 32, 32, 3) float32 images -> (N, 10) logits.
    """
    model = None
    ### BEGIN SOLUTION
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
               tf.keras.layers.Dense(10)]
    model = tf.keras.Sequential(layers)
    ### END SOLUTION
    return model
