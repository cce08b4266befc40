"""Convolution, spatial batch normalisation and ReLU as one layer.

Kept apart from sandwich.py because it needs spatial_norm.py, which students write (so it is not shipped).
"""
from .fast_layers import conv_backward_fast, conv_forward_fast
from .fc_layers import relu_backward, relu_forward
from .spatial_norm import spatial_batchnorm_backward, spatial_batchnorm_forward


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """Convolution, spatial batch normalisation, then ReLU.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    gamma, beta : ndarray, shape (F,)
        Scale and shift of the batch normalisation, one per conv output channel.
    conv_param : dict
        'stride' and 'pad', as for conv_forward_fast.
    bn_param : dict
        'mode' ('train' or 'test') and optional 'eps', 'momentum', 'running_mean', 'running_var', as for
        spatial_batchnorm_forward (which updates the running statistics in it in train mode).

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        H' = 1 + (H + 2 * pad - HH) // stride, W' = 1 + (W + 2 * pad - WW) // stride.
    cache : tuple
        (conv_cache, bn_cache, relu_cache) for conv_bn_relu_backward.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    normalised, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(normalised)
    return out, (conv_cache, bn_cache, relu_cache)


def conv_bn_relu_backward(dout, cache):
    """Backward pass of conv_bn_relu_forward.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
    cache : tuple
        From conv_bn_relu_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    dgamma, dbeta : ndarray, shape (F,)
    """
    conv_cache, bn_cache, relu_cache = cache
    dnormalised = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dnormalised, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta
