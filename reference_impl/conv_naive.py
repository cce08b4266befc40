"""Convolution written as explicit loops over output positions: the model answer students compare against.

Each graded function is self-contained (the notebook copies exactly one function per cell), so input checks
are written inline, before the solution markers, where students keep them.
"""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer, looping over output positions.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Each of the F filters spans all C input channels; the input is zero-padded symmetrically by ``pad`` pixels
    on each side of both spatial dimensions, and the filter moves ``stride`` pixels at a time.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images. Never modified.
    w : ndarray, shape (F, C, HH, WW)
        Filter weights.
    b : ndarray, shape (F,)
        One bias per filter.
    conv_param : dict
        'stride' (int > 0) and 'pad' (int >= 0).

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        H' = 1 + (H + 2 * pad - HH) // stride and W' = 1 + (W + 2 * pad - WW) // stride; the division must be
        exact. Floating dtype of the inputs (float32 stays float32).
    cache : tuple
        (x, w, b, conv_param) for conv_backward_naive.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel or bias count mismatch, stride <= 0, pad < 0, a filter larger than
        the padded input, or a filter/stride combination that does not tile the padded input exactly.
    TypeError
        Non-integer stride or pad.
    """
    if np.ndim(x) != 4 or np.ndim(w) != 4 or np.ndim(b) != 1:
        raise ValueError(f"expected x (N, C, H, W), w (F, C, HH, WW), b (F,); got shapes "
                         f"{np.shape(x)}, {np.shape(w)}, {np.shape(b)}")
    if x.shape[1] != w.shape[1] or b.shape[0] != w.shape[0]:
        raise ValueError(f"x has {x.shape[1]} channels and w expects {w.shape[1]}; b has {b.shape[0]} entries "
                         f"for {w.shape[0]} filters")
    stride, pad = conv_param.get("stride"), conv_param.get("pad")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (stride, pad)):
        raise TypeError(f"conv_param 'stride' and 'pad' must be integers; got stride={stride!r}, pad={pad!r}")
    if stride <= 0 or pad < 0:
        raise ValueError(f"need stride > 0 and pad >= 0; got stride={stride}, pad={pad}")
    H_padded, W_padded = x.shape[2] + 2 * pad, x.shape[3] + 2 * pad
    if w.shape[2] > H_padded or w.shape[3] > W_padded:
        raise ValueError(f"filter {w.shape[2]}x{w.shape[3]} is larger than the padded input "
                         f"{H_padded}x{W_padded}")
    if (H_padded - w.shape[2]) % stride or (W_padded - w.shape[3]) % stride:
        raise ValueError(f"filter {w.shape[2]}x{w.shape[3]} with stride {stride} does not tile the padded "
                         f"input {H_padded}x{W_padded}: (H + 2*pad - HH) = {H_padded - w.shape[2]} and "
                         f"(W + 2*pad - WW) = {W_padded - w.shape[3]} must be multiples of the stride")
    out = None
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    dtype = np.result_type(x, w, b, np.float32)  # integers become floats; float32 stays float32
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2*pad, W + 2*pad)
    out = np.empty((N, F, H_out, W_out), dtype=dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x_padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]  # (N, C, HH, WW)
            # Every filter's dot product with every sample's window at once: (N, C, HH, WW) . (F, C, HH, WW).
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b  # (N, F)
    ### END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer, looping over output positions.

    Float32 in, float32 out: every returned array keeps the floating dtype of the inputs (allocate with
    ``dtype=x.dtype``, not a bare ``np.zeros(shape)``, which is float64); the grader checks it.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Upstream gradient of the layer's output.
    cache : tuple
        (x, w, b, conv_param) as returned by conv_forward_naive. Not modified.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to x (the padding's share is dropped).
    dw : ndarray, shape (F, C, HH, WW)
        Gradient with respect to w.
    db : ndarray, shape (F,)
        Gradient with respect to b.

    Raises
    ------
    ValueError
        If dout's shape is not the forward output's shape.
    """
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    expected = (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
                1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)
    if np.shape(dout) != expected:
        raise ValueError(f"dout has shape {np.shape(dout)}; the forward output had shape {expected}")
    dx, dw, db = None, None, None
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    dtype = np.result_type(x, w, b, dout, np.float32)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2*pad, W + 2*pad)
    dx_padded = np.zeros(x_padded.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    db = dout.sum(axis=(0, 2, 3)).astype(dtype)  # each bias touches every output position of its filter
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            grad_here = dout[:, :, i, j]  # (N, F)
            # Overlapping windows share input pixels, so their contributions add up.
            dx_padded[:, :, rows, cols] += np.tensordot(grad_here, w, axes=([1], [0]))  # (N, C, HH, WW)
            dw += np.tensordot(grad_here, x_padded[:, :, rows, cols], axes=([0], [0]))  # (F, C, HH, WW)
    dx = dx_padded[:, :, pad:pad + H, pad:pad + W]  # (N, C, H, W): the padding is not an input
    ### END SOLUTION
    return dx, dw, db
