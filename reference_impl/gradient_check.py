"""Numeric gradients by centred differences, for checking analytic backward passes.

Every function perturbs x in place one entry at a time and always restores it (even if f raises), so the
caller's array holds its original values afterwards. Run checks in float64: float32 rounding swamps the
difference quotient.
"""
import numpy as np


def _require_float_array(x):
    """Perturbing an integer array by h would silently truncate; refuse it with a clear message."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating-point ndarray (it is perturbed in place); got "
                        f"{type(x).__name__} of dtype {getattr(x, 'dtype', None)}")


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numeric gradient of a scalar function at x.

    Parameters
    ----------
    f : callable
        f(x) -> float. It may read x (which is perturbed in place) or ignore its argument and read x through
        a closure.
    x : ndarray of floats, any shape
        The point; restored after each perturbation.
    verbose : bool
        Print each index and its gradient entry.
    h : float
        Step of the centred difference (f(x + h) - f(x - h)) / (2h).

    Returns
    -------
    grad : ndarray of float64, shape of x

    Raises
    ------
    TypeError
        If x is not a floating-point ndarray.
    """
    _require_float_array(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient, at x, of sum(f(x) * df) for an array-valued f: the vector-Jacobian product.

    Parameters
    ----------
    f : callable
        f(x) -> ndarray of the shape of df.
    x : ndarray of floats, any shape
        The point; restored after each perturbation.
    df : ndarray
        Upstream gradient of f's output.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : ndarray of float64, shape of x

    Raises
    ------
    TypeError
        If x is not a floating-point ndarray.
    """
    _require_float_array(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            # Copy: f may return a view of (or a buffer it reuses for) its output.
            out_plus = np.array(f(x), dtype=np.float64)
            x[index] = original - h
            out_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = original
        grad[index] = np.sum((out_plus - out_minus) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, verbose=True):
    """Compare an analytic gradient with the numeric one at a few randomly chosen entries of x.

    Parameters
    ----------
    f : callable
        f(x) -> float.
    x : ndarray of floats
        The point; restored after each perturbation.
    analytic_grad : ndarray, shape of x
        The gradient to check.
    num_checks : int
        How many entries to sample (with replacement).
    h : float
        Step of the centred difference.
    seed : int or None
        Seed of the private generator that picks the entries (NumPy's global state is left alone).
    verbose : bool
        Print one line per entry: numeric value, analytic value, relative error.

    Returns
    -------
    errors : ndarray, shape (num_checks,)
        Relative error |num - ana| / (|num| + |ana|) of each sampled entry (0 where both are 0).
    """
    _require_float_array(x)
    if np.shape(analytic_grad) != np.shape(x):
        raise ValueError(f"analytic_grad has shape {np.shape(analytic_grad)}, x has shape {np.shape(x)}")
    rng = np.random.default_rng(seed)
    errors = np.zeros(num_checks)
    for check in range(num_checks):
        index = tuple(int(rng.integers(size)) for size in x.shape)
        original = x[index]
        try:
            x[index] = original + h
            f_plus = f(x)
            x[index] = original - h
            f_minus = f(x)
        finally:
            x[index] = original
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[index]
        scale = abs(numeric) + abs(analytic)
        errors[check] = abs(numeric - analytic) / scale if scale > 0 else 0.0
        if verbose:
            print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {errors[check]:e}")
    return errors


def rel_error(x, y):
    """Largest elementwise relative error max(|x - y| / max(1e-8, |x| + |y|)).

    Parameters
    ----------
    x, y : array_like of the same shape (scalars allowed)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ: broadcasting would hide a wrong output shape.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes; got {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
