"""Sandwich layers: common stacks of layers as one forward/backward pair, built on the fast conv/pool layers.

Each forward returns (out, cache) where cache is the tuple of the parts' caches in forward order; each backward
takes that cache and returns the gradients of the forward's array arguments, in argument order.
"""
from .fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from .fc_layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x, w, b):
    """Affine transform followed by a ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Input; each sample is flattened to D = d_1 * ... * d_k values.
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
        relu(x.reshape(N, D) @ w + b).
    cache : tuple
        (affine_cache, relu_cache) for affine_relu_backward.
    """
    a, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (affine_cache, relu_cache)


def affine_relu_backward(dout, cache):
    """Backward pass of affine_relu_forward.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    cache : tuple
        From affine_relu_forward.

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    affine_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), affine_cache)


def conv_relu_forward(x, w, b, conv_param):
    """Convolution followed by a ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        'stride' and 'pad', as for conv_forward_fast.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        H' = 1 + (H + 2 * pad - HH) // stride, W' = 1 + (W + 2 * pad - WW) // stride.
    cache : tuple
        (conv_cache, relu_cache) for conv_relu_backward.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    """Backward pass of conv_relu_forward.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
    cache : tuple
        From conv_relu_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """Convolution, ReLU, then max pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict
        'stride' and 'pad', as for conv_forward_fast.
    pool_param : dict
        'pool_height', 'pool_width' and 'stride', as for max_pool_forward_fast.

    Returns
    -------
    out : ndarray, shape (N, F, H'', W'')
        With the conv output size H' = 1 + (H + 2 * pad - HH) // stride (W' likewise), the pooled size is
        H'' = 1 + (H' - pool_height) // pool_stride and W'' = 1 + (W' - pool_width) // pool_stride.
    cache : tuple
        (conv_cache, relu_cache, pool_cache) for conv_relu_pool_backward.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    """Backward pass of conv_relu_pool_forward.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H'', W'')
    cache : tuple
        From conv_relu_pool_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)
