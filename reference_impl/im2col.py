"""im2col / col2im: unfold receptive fields into columns so that a convolution becomes one matrix product.

Two interchangeable backends compute the same arrays:

* ``"cython"``: the compiled extension ``reference_impl.im2col_cython`` (build it with
  ``python setup.py build_ext --inplace`` in the folder that holds ``setup.py``);
* ``"numpy"``: the vectorised fallback below (``im2col_numpy`` / ``col2im_numpy``).

The extension is used when it can be imported, unless the environment variable ``CONVKIT_NO_CYTHON=1`` was set
before this module was imported. ``BACKEND`` names the one in use; ``im2col`` and ``col2im`` are its functions.

Layout (both backends): one matrix per image, ``cols[n]`` of shape (C*HH*WW, H_out*W_out), with row
``k = (c * HH + i) * WW + j`` and column ``q = oh * W_out + ow``, so
``cols[n, k, q] = x_padded[n, c, oh * stride + i, ow * stride + j]``. With the image index outermost the
convolution is a stack of matrix products whose results are already in (N, F, H', W') order: no transposes.
With ``batch_axis=1`` the image index moves inside instead, ``cols[k, n, q]``: then
``cols.reshape(C*HH*WW, N*H_out*W_out)`` is one matrix for the whole batch, and the convolution one large
matrix product (faster with several BLAS threads).

The extension also holds compiled max-pooling kernels; ``extension`` (internal, not in ``__all__``) is the
imported module when the compiled backend is in use, else None.
"""
import importlib
import os
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["BACKEND", "im2col", "col2im", "im2col_numpy", "col2im_numpy", "output_size"]


def output_size(size, field, pad, stride):
    """Number of positions of a window sliding over one padded dimension.

    Parameters
    ----------
    size, field, pad, stride : int
        Input size, window size, zero padding per side, step.

    Returns
    -------
    int
        ``1 + (size + 2 * pad - field) // stride``.

    Raises
    ------
    ValueError
        If stride < 1, pad < 0, field < 1, or the window is larger than the padded input.
    """
    if stride < 1 or pad < 0 or field < 1:
        raise ValueError(f"need stride >= 1, pad >= 0, window >= 1; got stride={stride}, pad={pad}, "
                         f"window={field}")
    if field > size + 2 * pad:
        raise ValueError(f"window of size {field} is larger than the padded input {size} + 2*{pad}")
    return 1 + (size + 2 * pad - field) // stride


def _check_out(out, shape, dtype, name):
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype).name} array of shape {shape} for {name}")


def _check_batch_axis(batch_axis):
    if batch_axis not in (0, 1):
        raise ValueError(f"batch_axis must be 0 or 1; got {batch_axis}")


def im2col_numpy(x, field_height, field_width, pad, stride, *, batch_axis=0, out=None):
    """Unfold every receptive field of ``x`` into one column (NumPy fallback).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    field_height, field_width : int
        Window size HH, WW.
    pad : int
        Zero padding on every side.
    stride : int
    batch_axis : {0, 1}, keyword-only
        Where the image index goes: 0 (default) gives one matrix per image, 1 gives one row per (c, i, j)
        spanning every image, so that cols.reshape(C*HH*WW, N*H_out*W_out) is one matrix for the whole batch.
    out : ndarray, optional, keyword-only
        C-contiguous array of the result's shape and dtype to write into (and return) instead of a new one.

    Returns
    -------
    cols : ndarray, shape (N, C*HH*WW, H_out*W_out) (batch_axis=0) or (C*HH*WW, N, H_out*W_out)
        (batch_axis=1), dtype of x, with H_out = 1 + (H + 2*pad - HH) // stride and
        W_out = 1 + (W + 2*pad - WW) // stride.
    """
    _check_batch_axis(batch_axis)
    x = np.asarray(x)
    N, C, H, W = x.shape
    H_out = output_size(H, field_height, pad, stride)
    W_out = output_size(W, field_width, pad, stride)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2p, W + 2p)
    windows = sliding_window_view(x_padded, (field_height, field_width), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]  # (N, C, H_out, W_out, HH, WW) view
    # (N, C, HH, WW, H_out, W_out) -> (N, C*HH*WW, H_out*W_out), or with batch_axis=1 (C, HH, WW, N, H_out, W_out)
    # -> (C*HH*WW, N, H_out*W_out): the one copy, in the documented order.
    if batch_axis == 1:
        ordered, shape = windows.transpose(1, 4, 5, 0, 2, 3), (C * field_height * field_width, N, H_out * W_out)
    else:
        ordered, shape = windows.transpose(0, 1, 4, 5, 2, 3), (N, C * field_height * field_width, H_out * W_out)
    if out is None:
        return ordered.reshape(shape)
    _check_out(out, shape, x.dtype, "im2col")
    np.copyto(out.reshape(ordered.shape), ordered)
    return out


def col2im_numpy(cols, N, C, H, W, field_height, field_width, pad, stride, *, batch_axis=0, out=None):
    """Sum columns back into an image, the adjoint of ``im2col`` (NumPy fallback).

    Parameters
    ----------
    cols : ndarray, shape (N, C*HH*WW, H_out*W_out) (batch_axis=0) or (C*HH*WW, N, H_out*W_out) (batch_axis=1)
    N, C, H, W : int
        Shape of the unpadded image the columns came from.
    field_height, field_width, pad, stride : int
        As given to ``im2col``.
    batch_axis : {0, 1}, keyword-only
        The layout of cols, as given to ``im2col``.
    out : ndarray, optional, keyword-only
        C-contiguous array of the result's shape and dtype to write into (and return) instead of a new one;
        its previous contents are overwritten.

    Returns
    -------
    x : ndarray, shape (N, C, H, W), dtype of cols; overlapping windows accumulate, the padding is dropped.
    """
    _check_batch_axis(batch_axis)
    cols = np.asarray(cols)
    H_out = output_size(H, field_height, pad, stride)
    W_out = output_size(W, field_width, pad, stride)
    if batch_axis == 1:
        expected, names = (C * field_height * field_width, N, H_out * W_out), "(C*HH*WW, N, H_out*W_out)"
    else:
        expected, names = (N, C * field_height * field_width, H_out * W_out), "(N, C*HH*WW, H_out*W_out)"
    if cols.shape != expected:
        raise ValueError(f"cols has shape {cols.shape}; {names} is {expected}")
    if batch_axis == 1:  # (C, HH, WW, N, H_out, W_out) viewed in the order of the other layout
        blocks = cols.reshape(C, field_height, field_width, N, H_out, W_out).transpose(3, 0, 1, 2, 4, 5)
    else:
        blocks = cols.reshape(N, C, field_height, field_width, H_out, W_out)
    x_padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    # One vectorised pass per window offset: within a pass the strided targets are distinct, so += is exact.
    for i in range(field_height):
        rows = slice(i, i + stride * (H_out - 1) + 1, stride)
        for j in range(field_width):
            columns = slice(j, j + stride * (W_out - 1) + 1, stride)
            x_padded[:, :, rows, columns] += blocks[:, :, i, j]  # (N, C, H_out, W_out)
    if out is None:
        return x_padded[:, :, pad:pad + H, pad:pad + W]
    _check_out(out, (N, C, H, W), cols.dtype, "col2im")
    np.copyto(out, x_padded[:, :, pad:pad + H, pad:pad + W])
    return out


def _compiled_backend():
    """The extension's functions, or None (with one warning) when it is not built or does not load."""
    # import_module, not `from . import im2col_cython`: when the module does not exist, the latter falls back to
    # reading an attribute of this half-imported package, and Python then blames a "circular import".
    module_name = f"{__package__}.im2col_cython"
    try:
        im2col_cython = importlib.import_module(module_name)
    except ImportError as error:
        if isinstance(error, ModuleNotFoundError) and error.name == module_name:
            problem = f"{module_name} is not built"
        else:  # built, but for another Python or NumPy, or half-written
            problem = f"{module_name} could not be loaded ({error}); rebuild it"
        warnings.warn(
            f"{problem}, so the fast layers use the NumPy im2col instead (same results, slower). To compile it, "
            f"run `python -m pip install cython setuptools` and then `python setup.py build_ext --inplace` in "
            f"the folder that holds {__package__}/ and setup.py (a C compiler is needed). Set "
            "CONVKIT_NO_CYTHON=1 to use NumPy without this warning.",
            RuntimeWarning, stacklevel=2)
        return None

    compiled_dtypes = (np.dtype(np.float32), np.dtype(np.float64))

    # The extension is typed for float32/float64 only; other dtypes take the NumPy route instead of failing.
    def im2col_compiled(x, field_height, field_width, pad, stride, *, batch_axis=0, out=None):
        x = np.asarray(x)
        if x.dtype not in compiled_dtypes:
            return im2col_numpy(x, field_height, field_width, pad, stride, batch_axis=batch_axis, out=out)
        return im2col_cython.im2col(np.ascontiguousarray(x), field_height, field_width, pad, stride,
                                    batch_axis=batch_axis, out=out)

    def col2im_compiled(cols, N, C, H, W, field_height, field_width, pad, stride, *, batch_axis=0, out=None):
        cols = np.asarray(cols)
        if cols.dtype not in compiled_dtypes:
            return col2im_numpy(cols, N, C, H, W, field_height, field_width, pad, stride, batch_axis=batch_axis,
                                out=out)
        return im2col_cython.col2im(np.ascontiguousarray(cols), N, C, H, W, field_height, field_width, pad,
                                    stride, batch_axis=batch_axis, out=out)

    im2col_compiled.__doc__ = im2col_numpy.__doc__.replace("NumPy fallback", "compiled extension")
    col2im_compiled.__doc__ = col2im_numpy.__doc__.replace("NumPy fallback", "compiled extension")
    return im2col_compiled, col2im_compiled, im2col_cython


_compiled = None if os.environ.get("CONVKIT_NO_CYTHON") == "1" else _compiled_backend()
if _compiled is None:
    BACKEND = "numpy"
    im2col, col2im = im2col_numpy, col2im_numpy
    extension = None
else:
    BACKEND = "cython"
    im2col, col2im, extension = _compiled
del _compiled
