"""First-order update rules for gradient descent.

Every rule has the signature ``rule(w, dw, config=None) -> (next_w, config)``:

- ``w``: array of any shape, the current parameter value (never modified).
- ``dw``: array of the same shape, the gradient of the loss with respect to ``w``.
- ``config``: dict of hyperparameters and of the state the rule carries from one step to the next
  (velocity, moving averages, step count). Missing entries get their defaults through
  ``config.setdefault``, so a fresh ``{}`` or ``None`` starts a new run; the dict is updated and returned.

The Solver keeps one config per parameter and passes it back on the next step.
"""
from __future__ import annotations

from types import MappingProxyType

import numpy as np


def _check_shapes(w, dw):
    if np.shape(w) != np.shape(dw):
        raise ValueError(f"parameter and gradient shapes differ: w {np.shape(w)} vs dw {np.shape(dw)}")


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``next_w = w - learning_rate * dw``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Parameter and its gradient.
    config : dict or None
        ``learning_rate`` (default 1e-2).

    Returns
    -------
    next_w : ndarray, shape of ``w``
    config : dict
    """
    config = {} if config is None else config
    _check_shapes(w, dw)
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    ``v = momentum * v - learning_rate * dw``; ``next_w = w + v``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Parameter and its gradient.
    config : dict or None
        ``learning_rate`` (default 1e-2), ``momentum`` (default 0.9; 0 gives plain SGD),
        ``velocity`` (array like ``w``, default zeros).

    Returns
    -------
    next_w : ndarray, shape of ``w``
    config : dict, with the updated ``velocity``
    """
    config = {} if config is None else config
    _check_shapes(w, dw)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    config["velocity"] = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    return w + config["velocity"], config


def rmsprop(w, dw, config=None):
    """RMSProp: divide the step by a moving average of squared gradients.

    ``cache = decay_rate * cache + (1 - decay_rate) * dw**2``;
    ``next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)``.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Parameter and its gradient.
    config : dict or None
        ``learning_rate`` (default 1e-2), ``decay_rate`` (default 0.99), ``epsilon`` (default 1e-8),
        ``cache`` (array like ``w``, default zeros).

    Returns
    -------
    next_w : ndarray, shape of ``w``
    config : dict, with the updated ``cache``
    """
    config = {} if config is None else config
    _check_shapes(w, dw)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient and on its square, with bias correction.

    With ``t`` incremented first (so the first step uses t = 1)::

        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        next_w = w - learning_rate * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + epsilon)

    Parameters
    ----------
    w, dw : ndarray, same shape
        Parameter and its gradient.
    config : dict or None
        ``learning_rate`` (default 1e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon`` (1e-8),
        ``m`` and ``v`` (arrays like ``w``, default zeros), ``t`` (step count, default 0).

    Returns
    -------
    next_w : ndarray, shape of ``w``
    config : dict, with the updated ``m``, ``v`` and ``t``
    """
    config = {} if config is None else config
    _check_shapes(w, dw)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw * dw
    # Both averages start at zero; dividing by 1 - beta**t removes that bias in the first steps.
    m_hat = config["m"] / (1 - beta1 ** config["t"])
    v_hat = config["v"] / (1 - beta2 ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config


# Read-only name -> rule table the Solver looks rules up in.
UPDATE_RULES = MappingProxyType({"sgd": sgd, "sgd_momentum": sgd_momentum, "rmsprop": rmsprop, "adam": adam})
