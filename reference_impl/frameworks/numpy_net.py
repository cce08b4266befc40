"""The frameworks assignments' three-layer convnet written with the kit's own NumPy layers.

NumPy only: the grader's parent process (which never imports a framework) and the tests use it to check what
PyTorch and TensorFlow compute against an independent implementation. The architecture is the one both
framework notebooks build:

    conv (F1 filters, stride 1, pad 2) - ReLU - conv (F2 filters, stride 1, pad 1) - ReLU - fully connected

Layout is PyTorch's: images (N, C, H, W), filters (F, C, HH, WW) ("OIHW"); the fully connected weights
(D, num_classes) act on each sample's features flattened in (F2, H', W') order, D = F2 * H' * W'. A TensorFlow
caller converts NHWC/HWIO to this layout first (and permutes the rows of fc_w, which TensorFlow flattens in
(H', W', F2) order).

The six parameters always travel as a sequence in the order of ``PARAM_NAMES``.
"""
import numpy as np

from ..fc_layers import affine_backward, affine_forward
from ..losses import softmax_loss
from ..sandwich import conv_relu_backward, conv_relu_forward

PARAM_NAMES = ("conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b")
CONV1_PARAM = {"stride": 1, "pad": 2}
CONV2_PARAM = {"stride": 1, "pad": 1}


def _unpack(params):
    """Check the six parameters' shapes against each other; return them as float arrays."""
    if len(params) != len(PARAM_NAMES):
        raise ValueError(f"expected {len(PARAM_NAMES)} parameters {PARAM_NAMES}, got {len(params)}")
    arrays = [np.asarray(p) for p in params]
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = arrays
    expected_ndim = (4, 1, 4, 1, 2, 1)
    for name, array, ndim in zip(PARAM_NAMES, arrays, expected_ndim):
        if array.ndim != ndim:
            raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if conv_w2.shape[1] != conv_w1.shape[0] or conv_b1.shape[0] != conv_w1.shape[0]:
        raise ValueError(f"conv_w1 {conv_w1.shape} makes {conv_w1.shape[0]} channels, but conv_b1 has "
                         f"{conv_b1.shape[0]} entries and conv_w2 {conv_w2.shape} expects {conv_w2.shape[1]}")
    if conv_b2.shape[0] != conv_w2.shape[0] or fc_b.shape[0] != fc_w.shape[1]:
        raise ValueError(f"bias sizes do not match: conv_w2 {conv_w2.shape} / conv_b2 {conv_b2.shape}, "
                         f"fc_w {fc_w.shape} / fc_b {fc_b.shape}")
    return arrays


def _forward(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = _unpack(params)
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != conv_w1.shape[1]:
        raise ValueError(f"x must be (N, {conv_w1.shape[1]}, H, W) for conv_w1 {conv_w1.shape}, got {x.shape}")
    h1, cache1 = conv_relu_forward(x, conv_w1, conv_b1, dict(CONV1_PARAM))  # (N, F1, H1, W1)
    h2, cache2 = conv_relu_forward(h1, conv_w2, conv_b2, dict(CONV2_PARAM))  # (N, F2, H2, W2)
    scores, cache3 = affine_forward(h2, fc_w, fc_b)  # (N, F2, H2, W2) flattened row-wise -> (N, num_classes)
    return scores, (cache1, cache2, cache3)


def three_layer_convnet_scores(x, params):
    """Class scores of the three-layer convnet.

    Inputs:
    - x: (N, C, H, W) images.
    - params: sequence (conv_w1 (F1, C, KH1, KW1), conv_b1 (F1,), conv_w2 (F2, F1, KH2, KW2), conv_b2 (F2,),
      fc_w (F2 * H2 * W2, num_classes), fc_b (num_classes,)), where H1 = H + 4 - KH1 + 1,
      H2 = H1 + 2 - KH2 + 1 and likewise for the widths (for 5x5 and 3x3 filters H2 = H, W2 = W).
    Returns: scores (N, num_classes), in the inputs' floating dtype (float32 stays float32).
    Raises ValueError when the shapes do not fit together.
    """
    scores, _ = _forward(x, params)
    return scores


def three_layer_convnet_sgd_step(x, y, params, learning_rate):
    """One step of plain SGD on the mean softmax cross-entropy of the three-layer convnet.

    Inputs:
    - x: (N, C, H, W) images; y: (N,) integer labels in 0 .. num_classes - 1.
    - params: as for ``three_layer_convnet_scores``; never modified.
    - learning_rate: positive float.
    Returns: (loss, new_params): the loss before the step (float) and the list of six updated arrays
    p - learning_rate * dloss/dp, each of its parameter's shape.
    """
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    scores, (cache1, cache2, cache3) = _forward(x, params)
    loss, dscores = softmax_loss(scores, np.asarray(y))
    dh2, dfc_w, dfc_b = affine_backward(dscores, cache3)
    dh1, dconv_w2, dconv_b2 = conv_relu_backward(dh2, cache2)
    _, dconv_w1, dconv_b1 = conv_relu_backward(dh1, cache1)
    grads = (dconv_w1, dconv_b1, dconv_w2, dconv_b2, dfc_w, dfc_b)
    new_params = [np.asarray(p) - learning_rate * g for p, g in zip(params, grads)]
    return loss, new_params
