"""Classification losses on class scores, averaged over the minibatch, each with its gradient."""
import numpy as np


def _check_scores_and_labels(x, y):
    """Raise a specific error unless x is (N, C) scores and y holds N integer labels in [0, C)."""
    if np.ndim(x) != 2:
        raise ValueError(f"scores x must have shape (N, C); got shape {np.shape(x)}")
    if np.shape(y) != (x.shape[0],):
        raise ValueError(f"labels y must have shape ({x.shape[0]},) to match x {x.shape}; got {np.shape(y)}")
    if not np.issubdtype(np.asarray(y).dtype, np.integer):
        raise TypeError(f"labels y must be integers; got dtype {np.asarray(y).dtype}")
    if y.size and (y.min() < 0 or y.max() >= x.shape[1]):
        raise ValueError(f"labels must lie in [0, {x.shape[1]}); got values from {y.min()} to {y.max()}")


def softmax_loss(x, y):
    """Mean cross-entropy of the softmax of the scores, and its gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores; x[i, j] is the score of class j for sample i.
    y : ndarray of int, shape (N,)
        Correct classes, 0 <= y[i] < C.

    Returns
    -------
    loss : float
        Mean over the N samples of -log softmax(x[i])[y[i]].
    dx : ndarray, shape (N, C)
        Gradient of the loss with respect to x.
    """
    _check_scores_and_labels(x, y)
    n = x.shape[0]
    # Shifting each row by its maximum leaves the softmax unchanged and keeps exp() from overflowing.
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= n
    return float(loss), dx


def svm_loss(x, y):
    """Mean multiclass hinge loss (margin 1), and its gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C)
        Class scores.
    y : ndarray of int, shape (N,)
        Correct classes, 0 <= y[i] < C.

    Returns
    -------
    loss : float
        Mean over samples of sum over j != y[i] of max(0, x[i, j] - x[i, y[i]] + 1).
    dx : ndarray, shape (N, C)
        Gradient of the loss with respect to x (subgradient 0 at the hinge).
    """
    _check_scores_and_labels(x, y)
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)  # (N, C)
    margins[rows, y] = 0  # the correct class does not compete with itself
    loss = margins.sum() / n
    violated = (margins > 0).astype(margins.dtype)
    violated[rows, y] = -violated.sum(axis=1)
    dx = violated / n
    return float(loss), dx
