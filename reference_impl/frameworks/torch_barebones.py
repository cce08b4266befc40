"""Barebones PyTorch: the three-layer convnet as tensors and raw functional ops, trained with autograd and SGD.

No ``torch.nn`` layers and no optimiser: the parameters are plain tensors with ``requires_grad``, the forward
pass calls ``torch.nn.functional.conv2d`` and friends, autograd computes the gradients and the update is
written out by hand. Layout: images (N, C, H, W), filters (F, C, KH, KW), fully connected weights
(D, num_classes) applied as ``features @ fc_w``; the six parameters travel as the list
``[conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]`` (``numpy_net.PARAM_NAMES``).

Each graded function is self-contained (the notebook shows exactly one function per cell) and uses only the
names the notebook's setup cell imports: np, torch, F, DTYPE.
"""
import numpy as np
import torch
import torch.nn.functional as F

from .torch_data import DTYPE


def flatten(x):
    """Flatten every sample of a batch into one row.

    Inputs: x, tensor of shape (N, d_1, ..., d_k).
    Returns: tensor of shape (N, d_1 * ... * d_k), the values of each sample in row-major (C, H, W) order
    (a view of x when its memory allows).
    """
    flat = None
    ### BEGIN SOLUTION
    flat = x.reshape(x.shape[0], -1)  # (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k)
    ### END SOLUTION
    return flat


def three_layer_convnet(x, params):
    """Forward pass: conv (pad 2) - ReLU - conv (pad 1) - ReLU - fully connected, with stride 1 throughout.

    Inputs:
    - x: tensor (N, C, H, W), a mini-batch of images.
    - params: list [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b] of tensors:
      conv_w1 (channel_1, C, KH1, KW1), conv_b1 (channel_1,), conv_w2 (channel_2, channel_1, KH2, KW2),
      conv_b2 (channel_2,), fc_w (channel_2 * H2 * W2, num_classes), fc_b (num_classes,), where
      H2 = H + 4 - KH1 + 1 + 2 - KH2 + 1 (likewise W2); for 5x5 and 3x3 filters H2 = H and W2 = W.
    Returns: scores, tensor (N, num_classes), differentiable with respect to every parameter.
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    scores = None
    ### BEGIN SOLUTION
    hidden1 = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))  # (N, channel_1, H1, W1)
    hidden2 = F.relu(F.conv2d(hidden1, conv_w2, conv_b2, padding=1))  # (N, channel_2, H2, W2)
    scores = hidden2.reshape(hidden2.shape[0], -1).mm(fc_w) + fc_b  # (N, channel_2 * H2 * W2) @ (D, classes)
    ### END SOLUTION
    return scores


def random_weight(shape, device="cpu", dtype=DTYPE):
    """A weight tensor drawn from Kaiming's normal initialisation, ready for training.

    The entries are independent N(0, 2 / fan_in), the scale that keeps activations from shrinking or growing
    through ReLU layers. fan_in is the number of inputs each output sums over: shape[0] for a fully connected
    weight of shape (fan_in, fan_out) used as ``x @ w``; C * KH * KW for a filter bank (F, C, KH, KW).

    Inputs: shape, a tuple of 2 or 4 positive ints; device; dtype (float32 by default).
    Returns: tensor of that shape, dtype and device, with requires_grad=True (a leaf autograd tracks).
    Raises ValueError for any other number of dimensions.
    """
    if len(shape) not in (2, 4):
        raise ValueError(f"random_weight takes a (fan_in, fan_out) or (F, C, KH, KW) shape, got {tuple(shape)}")
    weight = None
    ### BEGIN SOLUTION
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    weight = torch.randn(tuple(shape), device=device, dtype=dtype) * np.sqrt(2.0 / fan_in)
    weight.requires_grad_()
    ### END SOLUTION
    return weight


def zero_weight(shape, device="cpu", dtype=DTYPE):
    """A tensor of zeros that autograd tracks (for biases).

    Inputs: shape, a tuple of ints; device; dtype (float32 by default).
    Returns: tensor of zeros of that shape, dtype and device, with requires_grad=True.
    """
    weight = None
    ### BEGIN SOLUTION
    weight = torch.zeros(tuple(shape), device=device, dtype=dtype, requires_grad=True)
    ### END SOLUTION
    return weight


def three_layer_convnet_init(input_dim=(3, 32, 32), channel_1=32, channel_2=16, num_classes=10, device="cpu",
                             dtype=DTYPE):
    """Fresh parameters for ``three_layer_convnet`` with 5x5 first-layer and 3x3 second-layer filters.

    Both convolutions keep the spatial size (5x5 with pad 2, 3x3 with pad 1), so the fully connected layer
    sees channel_2 * H * W features. Weights come from ``random_weight`` (Kaiming normal), biases from
    ``zero_weight``.

    Inputs: input_dim (C, H, W) of the images; channel_1, channel_2 filter counts; num_classes; device; dtype.
    Returns: list [conv_w1 (channel_1, C, 5, 5), conv_b1 (channel_1,), conv_w2 (channel_2, channel_1, 3, 3),
    conv_b2 (channel_2,), fc_w (channel_2 * H * W, num_classes), fc_b (num_classes,)], every tensor with
    requires_grad=True.
    """
    C, H, W = input_dim
    params = None
    ### BEGIN SOLUTION
    params = [
        random_weight((channel_1, C, 5, 5), device, dtype),
        zero_weight((channel_1,), device, dtype),
        random_weight((channel_2, channel_1, 3, 3), device, dtype),
        zero_weight((channel_2,), device, dtype),
        random_weight((channel_2 * H * W, num_classes), device, dtype),
        zero_weight((num_classes,), device, dtype),
    ]
    ### END SOLUTION
    return params


def train_step(model_fn, params, x, y, learning_rate):
    """One step of plain stochastic gradient descent on the mean softmax cross-entropy.

    Computes the loss of ``model_fn(x, params)``, lets autograd compute every parameter's gradient, then
    updates each parameter in place, p <- p - learning_rate * dloss/dp, outside the autograd graph, and
    resets the gradients to zero so the next step starts clean.

    Inputs:
    - model_fn: function (x, params) -> scores (N, num_classes), such as ``three_layer_convnet``.
    - params: list of leaf tensors with requires_grad=True; updated in place.
    - x: tensor (N, C, H, W); y: int64 tensor (N,) of class indices.
    - learning_rate: float.
    Returns: the loss before the update, as a Python float.
    """
    loss_value = None
    ### BEGIN SOLUTION
    loss = F.cross_entropy(model_fn(x, params), y)
    loss.backward()
    with torch.no_grad():  # the update itself must not become part of the graph
        for param in params:
            param -= learning_rate * param.grad
            param.grad.zero_()
    loss_value = loss.item()
    ### END SOLUTION
    return loss_value
