"""Normalisation of convolutional feature maps (N, C, H, W): spatial batchnorm and group normalisation.

Spatial batchnorm treats every pixel of a channel as one more sample of that channel's feature, so it is
fc_layers' batchnorm on a (N*H*W, C) view. Group normalisation normalises each sample separately over groups
of channels and their pixels, so it behaves the same in training and testing.
"""
import numpy as np

from .fc_layers import batchnorm_backward, batchnorm_forward


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation per channel, with statistics over the batch and both spatial dimensions.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
        Per-channel scale and shift.
    bn_param : dict
        As for batchnorm_forward: 'mode' ('train' or 'test'), optional 'eps', 'momentum', 'running_mean',
        'running_var' (shape (C,)); the updated running statistics are written back.

    Returns
    -------
    out : ndarray, shape (N, C, H, W), floating dtype of x
    cache : tuple
        The batchnorm cache of the (N*H*W, C) view.

    Raises
    ------
    ValueError
        x not 4-dimensional, gamma/beta not of shape (C,), or an unknown mode.
    """
    if np.ndim(x) != 4 or np.shape(gamma) != (x.shape[1],) or np.shape(beta) != (x.shape[1],):
        raise ValueError(f"expected x (N, C, H, W), gamma (C,), beta (C,); got shapes "
                         f"{np.shape(x)}, {np.shape(gamma)}, {np.shape(beta)}")
    out, cache = None, None
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    # Channels must become the last axis BEFORE flattening; reshaping (N, C, H, W) straight to (-1, C)
    # would mix channels together.
    x_rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)  # (N, C, H, W) -> (N, H, W, C) -> (N*H*W, C)
    out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N*H*W, C) -> (N, H, W, C) -> (N, C, H, W)
    ### END SOLUTION
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalisation.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        From spatial_batchnorm_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    if np.ndim(dout) != 4:
        raise ValueError(f"expected dout of shape (N, C, H, W); got shape {np.shape(dout)}")
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)  # (N, C, H, W) -> (N*H*W, C)
    dx_rows, dgamma, dbeta = batchnorm_backward(dout_rows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N*H*W, C) -> (N, C, H, W)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalisation: each sample's C channels split into G groups, normalised over group and pixels.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (1, C, 1, 1)
        Per-channel scale and shift.
    G : int
        Number of groups; must divide C.
    gn_param : dict
        'eps' (default 1e-5).

    Returns
    -------
    out : ndarray, shape (N, C, H, W), floating dtype of x
    cache : tuple
        (G, x_hat, gamma, std) with x_hat (N, C, H, W) and std (N, G, 1).

    Raises
    ------
    ValueError
        x not 4-dimensional, gamma/beta not of shape (1, C, 1, 1), or G not a positive divisor of C.
    """
    if np.ndim(x) != 4:
        raise ValueError(f"expected x of shape (N, C, H, W); got shape {np.shape(x)}")
    C = x.shape[1]
    if np.shape(gamma) != (1, C, 1, 1) or np.shape(beta) != (1, C, 1, 1):
        raise ValueError(f"gamma and beta must have shape (1, {C}, 1, 1); got {np.shape(gamma)}, "
                         f"{np.shape(beta)}")
    if not isinstance(G, (int, np.integer)) or G <= 0 or C % G:
        raise ValueError(f"G must be a positive integer dividing the {C} channels; got G={G!r}")
    out, cache = None, None
    ### BEGIN SOLUTION
    N, _, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    grouped = x.reshape(N, G, (C // G) * H * W)  # (N, C, H, W) -> (N, G, channels-per-group * H * W)
    mean = grouped.mean(axis=2, keepdims=True, dtype=dtype)  # (N, G, 1)
    std = np.sqrt(grouped.var(axis=2, keepdims=True, dtype=dtype) + eps).astype(dtype)  # (N, G, 1)
    x_hat = ((grouped - mean) / std).astype(dtype).reshape(N, C, H, W)  # back to (N, C, H, W)
    out = (gamma * x_hat + beta).astype(dtype)
    cache = (G, x_hat, gamma, std)
    ### END SOLUTION
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of group normalisation.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        From spatial_groupnorm_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (1, C, 1, 1)
    """
    if np.ndim(dout) != 4:
        raise ValueError(f"expected dout of shape (N, C, H, W); got shape {np.shape(dout)}")
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    G, x_hat, gamma, std = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)  # (1, C, 1, 1)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)  # (1, C, 1, 1)
    dx_hat = (dout * gamma).reshape(N, G, -1)  # (N, G, channels-per-group * H * W)
    x_hat_grouped = x_hat.reshape(N, G, -1)  # (N, G, channels-per-group * H * W)
    # Closed form of normalisation's backward pass, applied within each (sample, group).
    dx_grouped = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
                  - x_hat_grouped * (dx_hat * x_hat_grouped).mean(axis=2, keepdims=True)) / std
    dx = dx_grouped.reshape(N, C, H, W)  # (N, G, channels-per-group * H * W) -> (N, C, H, W)
    ### END SOLUTION
    return dx, dgamma, dbeta
