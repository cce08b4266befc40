"""Fully connected building blocks: affine, ReLU, batch and layer normalisation, inverted dropout.

Every layer is pure: ``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache)`` returns the gradients
in the forward's argument order. Inputs are never modified; the only write is the one the batchnorm contract
requires (new running_mean / running_var arrays stored into bn_param).
"""
import numpy as np


def _float_dtype(a):
    """The dtype a layer computes in for input `a`: its own if floating, else float64."""
    dtype = np.asarray(a).dtype
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def affine_forward(x, w, b):
    """Affine (fully connected) layer: out = x_flat @ w + b.

    Parameters
    ----------
    x : ndarray, shape (N, d_1, ..., d_k)
        Input; each sample is flattened to D = d_1 * ... * d_k values.
    w : ndarray, shape (D, M)
        Weights.
    b : ndarray, shape (M,)
        Biases.

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        (x, w, b).
    """
    if np.ndim(w) != 2 or np.ndim(b) != 1 or np.ndim(x) < 1:
        raise ValueError(f"expected x (N, ...), w (D, M), b (M,); got shapes "
                         f"{np.shape(x)}, {np.shape(w)}, {np.shape(b)}")
    flat_size = int(np.prod(x.shape[1:]))
    if flat_size != w.shape[0] or b.shape[0] != w.shape[1]:
        raise ValueError(f"x flattens to {flat_size} features per sample and b has {b.shape[0]} entries, "
                         f"but w has shape {w.shape}")
    x_flat = x.reshape(x.shape[0], flat_size)  # (N, D)
    out = x_flat @ w + b  # (N, M)
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    cache : tuple
        (x, w, b) from affine_forward.

    Returns
    -------
    dx : ndarray, shape (N, d_1, ..., d_k)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    x, w, b = cache
    x_flat = x.reshape(x.shape[0], -1)  # (N, D)
    dx = (dout @ w.T).reshape(x.shape)  # (N, D) -> (N, d_1, ..., d_k)
    dw = x_flat.T @ dout  # (D, M)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit, elementwise max(0, x).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : ndarray
        x itself.
    """
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """Backward pass of the ReLU: the gradient passes where the input was positive.

    Parameters
    ----------
    dout : ndarray, same shape as the forward input
    cache : ndarray
        The forward input x.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x = cache
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation over the samples of a minibatch, feature by feature.

    Train mode normalises with the batch mean and biased variance and updates the running statistics as
    running = momentum * running + (1 - momentum) * batch; test mode normalises with the running statistics.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
        Scale and shift.
    bn_param : dict
        'mode': 'train' or 'test' (required); 'eps' (default 1e-5); 'momentum' (default 0.9);
        'running_mean', 'running_var' (shape (D,), default zeros of x's floating dtype). New running arrays are
        written back into bn_param (the arrays passed in are not modified).

    Returns
    -------
    out : ndarray, shape (N, D), floating dtype of x
    cache : tuple
        What batchnorm_backward needs: (mode, x_hat, gamma, std).

    Raises
    ------
    ValueError
        Unknown mode or mismatched shapes.
    """
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test'; got {mode!r}")
    if np.ndim(x) != 2 or np.shape(gamma) != (x.shape[1],) or np.shape(beta) != (x.shape[1],):
        raise ValueError(f"expected x (N, D), gamma (D,), beta (D,); got shapes "
                         f"{np.shape(x)}, {np.shape(gamma)}, {np.shape(beta)}")
    dtype = _float_dtype(x)
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1], dtype=dtype))
    running_var = bn_param.get("running_var", np.zeros(x.shape[1], dtype=dtype))
    if mode == "train":
        mean = x.mean(axis=0, dtype=dtype)
        var = x.var(axis=0, dtype=dtype)  # biased (divides by N), as in the original paper's training step
        bn_param["running_mean"] = (momentum * running_mean + (1 - momentum) * mean).astype(dtype)
        bn_param["running_var"] = (momentum * running_var + (1 - momentum) * var).astype(dtype)
    else:
        mean, var = running_mean, running_var
        bn_param.setdefault("running_mean", running_mean)
        bn_param.setdefault("running_var", running_var)
    std = np.sqrt(var + eps).astype(dtype)
    x_hat = ((x - mean) / std).astype(dtype)
    out = (gamma * x_hat + beta).astype(dtype)
    return out, (mode, x_hat, gamma, std)


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalisation, step by step through the computational graph.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From batchnorm_forward.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    mode, x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if mode == "test":
        # Test mode uses fixed statistics, so the normalisation is an elementwise affine map of x.
        return dx_hat / std, dgamma, dbeta
    n = dout.shape[0]
    # Graph: centred = x - mean; x_hat = centred / std; std = sqrt(var + eps); var = mean(centred**2).
    centred = x_hat * std
    dstd = -(dx_hat * centred).sum(axis=0) / std**2
    dvar = dstd / (2 * std)
    dcentred = dx_hat / std + 2 * centred * dvar / n
    dmean = -dcentred.sum(axis=0)
    dx = dcentred + dmean / n
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalisation from the simplified closed form.

    dx = (gamma / std) * (dout - mean(dout) - x_hat * mean(dout * x_hat)), means over the batch; it gives the
    same result as batchnorm_backward with fewer intermediate arrays.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From batchnorm_forward.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    mode, x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if mode == "test":
        return dout * gamma / std, dgamma, dbeta
    n = dout.shape[0]
    dx = (gamma / std) * (dout - dbeta / n - x_hat * dgamma / n)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalisation: each sample is normalised over its own D features (same in train and test).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
    ln_param : dict
        'eps' (default 1e-5).

    Returns
    -------
    out : ndarray, shape (N, D), floating dtype of x
    cache : tuple
        (x_hat, gamma, std) with std of shape (N, 1).
    """
    if np.ndim(x) != 2 or np.shape(gamma) != (x.shape[1],) or np.shape(beta) != (x.shape[1],):
        raise ValueError(f"expected x (N, D), gamma (D,), beta (D,); got shapes "
                         f"{np.shape(x)}, {np.shape(gamma)}, {np.shape(beta)}")
    dtype = _float_dtype(x)
    eps = ln_param.get("eps", 1e-5)
    mean = x.mean(axis=1, keepdims=True, dtype=dtype)  # (N, 1)
    std = np.sqrt(x.var(axis=1, keepdims=True, dtype=dtype) + eps).astype(dtype)  # (N, 1)
    x_hat = ((x - mean) / std).astype(dtype)
    out = (gamma * x_hat + beta).astype(dtype)
    return out, (x_hat, gamma, std)


def layernorm_backward(dout, cache):
    """Backward pass of layer normalisation: batchnorm's closed form with the roles of the axes swapped.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple
        From layernorm_forward.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / std
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability p and scale kept units by 1/p.

    Scaling at train time keeps the expected activation unchanged, so test mode is the identity.

    Parameters
    ----------
    x : ndarray, any shape
    dropout_param : dict
        'p': probability of KEEPING a unit, 0 < p <= 1; 'mode': 'train' or 'test'; optional 'seed': with a
        seed the mask comes from a private generator (reproducible, leaves NumPy's global state alone);
        without one it comes from NumPy's global generator, so np.random.seed controls it.

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : tuple
        (dropout_param, mask); mask (shape of x, values 0 or 1/p) in train mode, None in test mode.
    """
    p, mode = dropout_param.get("p"), dropout_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_param['mode'] must be 'train' or 'test'; got {mode!r}")
    if isinstance(p, bool) or not isinstance(p, (float, int, np.floating, np.integer)) or not 0 < p <= 1:
        raise ValueError(f"dropout_param['p'] is the keep probability and must lie in (0, 1]; got {p!r}")
    if mode == "test":
        return x.copy(), (dropout_param, None)
    seed = dropout_param.get("seed")
    uniform = np.random.random_sample(x.shape) if seed is None else np.random.default_rng(seed).random(x.shape)
    mask = ((uniform < p) / p).astype(_float_dtype(x))
    return (x * mask).astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout.

    Parameters
    ----------
    dout : ndarray, shape of the forward input
    cache : tuple
        (dropout_param, mask) from dropout_forward.

    Returns
    -------
    dx : ndarray, shape of dout
    """
    _, mask = cache
    if mask is None:  # test mode: the forward pass was the identity
        return dout.copy()
    return dout * mask
