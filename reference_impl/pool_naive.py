"""Max pooling written as explicit loops over output positions: the model answer students compare against.

Each graded function is self-contained (the notebook copies exactly one function per cell), so input checks
are written inline, before the solution markers, where students keep them.
"""
import numpy as np


def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer (no padding), looping over output positions.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Windows need not tile the input: rows and columns left over after the last full window are not pooled.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input. Never modified.
    pool_param : dict
        'pool_height', 'pool_width' and 'stride', all integers > 0.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        H' = 1 + (H - pool_height) // stride and W' = 1 + (W - pool_width) // stride; same dtype as x.
    cache : tuple
        (x, pool_param) for max_pool_backward_naive.

    Raises
    ------
    ValueError
        x not 4-dimensional, a size <= 0, or a window larger than the input.
    TypeError
        A pool size or stride that is not an integer.
    """
    if np.ndim(x) != 4:
        raise ValueError(f"expected x of shape (N, C, H, W); got shape {np.shape(x)}")
    sizes = {key: pool_param.get(key) for key in ("pool_height", "pool_width", "stride")}
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in sizes.values()):
        raise TypeError(f"pool_param values must be integers; got {sizes}")
    if min(sizes.values()) <= 0:
        raise ValueError(f"pool_param values must be > 0; got {sizes}")
    if sizes["pool_height"] > x.shape[2] or sizes["pool_width"] > x.shape[3]:
        raise ValueError(f"pool window {sizes['pool_height']}x{sizes['pool_width']} is larger than the input "
                         f"{x.shape[2]}x{x.shape[3]}")
    out = None
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    pool_height, pool_width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out = 1 + (H - pool_height) // stride
    W_out = 1 + (W - pool_width) // stride
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
            out[:, :, i, j] = window.max(axis=(2, 3))  # (N, C)
    ### END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer, looping over output positions.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Each window's gradient goes to ONE input position: the first maximum in row-major order within the
    window. Overlapping windows (stride < pool size) add their gradients up where they share a maximum.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
        Upstream gradient of the layer's output.
    cache : tuple
        (x, pool_param) as returned by max_pool_forward_naive. Not modified.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to x; zero at positions no window picked.

    Raises
    ------
    ValueError
        If dout's shape is not the forward output's shape.
    """
    x, pool_param = cache
    pool_height, pool_width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    expected = (x.shape[0], x.shape[1], 1 + (x.shape[2] - pool_height) // stride,
                1 + (x.shape[3] - pool_width) // stride)
    if np.shape(dout) != expected:
        raise ValueError(f"dout has shape {np.shape(dout)}; the forward output had shape {expected}")
    dx = None
    ### BEGIN SOLUTION
    N, C, _, _ = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    window_size = pool_height * pool_width
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + pool_height)
            cols = slice(j * stride, j * stride + pool_width)
            flat_window = x[:, :, rows, cols].reshape(N, C, window_size)  # (N, C, ph*pw), row-major per window
            first_max = np.argmax(flat_window, axis=2)  # (N, C); argmax returns the first of tied maxima
            picks_max = np.arange(window_size) == first_max[:, :, None]  # (N, C, window_size), one True each
            routed = picks_max * dout[:, :, i, j][:, :, None]  # (N, C, window_size)
            # += rather than =: with overlapping windows one input can be the max of several windows.
            dx[:, :, rows, cols] += routed.reshape(N, C, pool_height, pool_width)  # (N, C, ph, pw)
    ### END SOLUTION
    return dx
