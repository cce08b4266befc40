# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled im2col / col2im for float32 and float64 images (one fused type, no OpenMP).

Layout shared with the NumPy fallback in ``im2col.py``: one matrix per image,
row ``k = (c * HH + i) * WW + j`` (channel, filter row, filter column),
column ``q = oh * W_out + ow`` (output row, output column), so
``cols[n, k, q] = x_padded[n, c, oh * stride + i, ow * stride + j]``.
Padding is never materialised: out-of-image positions are written as zeros (im2col)
or skipped (col2im).
"""
import numpy as np
from cython cimport floating


cdef inline Py_ssize_t _first_valid(Py_ssize_t offset, Py_ssize_t pad, Py_ssize_t stride,
                                    Py_ssize_t n_out) nogil:
    """Smallest output index o >= 0 with o * stride + offset - pad >= 0, capped at n_out."""
    cdef Py_ssize_t shift = pad - offset
    cdef Py_ssize_t first
    if shift <= 0:
        return 0
    first = (shift + stride - 1) // stride
    # A filter taller than the image can leave no valid output at all; never index past the row.
    return first if first < n_out else n_out


cdef inline Py_ssize_t _end_valid(Py_ssize_t offset, Py_ssize_t pad, Py_ssize_t stride,
                                  Py_ssize_t size, Py_ssize_t n_out) nogil:
    """One past the largest output index o < n_out with o * stride + offset - pad < size."""
    cdef Py_ssize_t limit = size + pad - offset  # need o * stride < limit
    cdef Py_ssize_t end
    if limit <= 0:
        return 0
    end = (limit + stride - 1) // stride
    return end if end < n_out else n_out


cdef void _im2col(const floating[:, :, :, ::1] x, floating[:, :, ::1] cols,
                  Py_ssize_t field_height, Py_ssize_t field_width,
                  Py_ssize_t pad, Py_ssize_t stride,
                  Py_ssize_t out_height, Py_ssize_t out_width) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, row, k, q
    cdef Py_ssize_t oh_lo, oh_hi, ow_lo, ow_hi
    # Image outermost: each image (a few KB) stays in cache while all its rows of cols are written.
    for n in range(N):
        for c in range(C):
            for i in range(field_height):
                oh_lo = _first_valid(i, pad, stride, out_height)
                oh_hi = _end_valid(i, pad, stride, H, out_height)
                for j in range(field_width):
                    ow_lo = _first_valid(j, pad, stride, out_width)
                    ow_hi = _end_valid(j, pad, stride, W, out_width)
                    k = (c * field_height + i) * field_width + j
                    q = 0
                    for oh in range(out_height):
                        if oh < oh_lo or oh >= oh_hi:
                            for ow in range(out_width):
                                cols[n, k, q + ow] = 0
                        else:
                            row = oh * stride + i - pad
                            for ow in range(ow_lo):
                                cols[n, k, q + ow] = 0
                            if stride == 1:  # contiguous runs: lets the C compiler vectorise the copy
                                for ow in range(ow_lo, ow_hi):
                                    cols[n, k, q + ow] = x[n, c, row, ow + j - pad]
                            else:
                                for ow in range(ow_lo, ow_hi):
                                    cols[n, k, q + ow] = x[n, c, row, ow * stride + j - pad]
                            for ow in range(ow_hi, out_width):
                                cols[n, k, q + ow] = 0
                        q += out_width


cdef void _col2im(const floating[:, :, ::1] cols, floating[:, :, :, ::1] dx,
                  Py_ssize_t field_height, Py_ssize_t field_width,
                  Py_ssize_t pad, Py_ssize_t stride,
                  Py_ssize_t out_height, Py_ssize_t out_width) noexcept nogil:
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, row, k, q
    cdef Py_ssize_t oh_lo, oh_hi, ow_lo, ow_hi
    for n in range(N):
        for c in range(C):
            for i in range(field_height):
                oh_lo = _first_valid(i, pad, stride, out_height)
                oh_hi = _end_valid(i, pad, stride, H, out_height)
                for j in range(field_width):
                    ow_lo = _first_valid(j, pad, stride, out_width)
                    ow_hi = _end_valid(j, pad, stride, W, out_width)
                    k = (c * field_height + i) * field_width + j
                    for oh in range(oh_lo, oh_hi):
                        row = oh * stride + i - pad
                        q = oh * out_width
                        if stride == 1:  # contiguous runs: lets the C compiler vectorise the sum
                            for ow in range(ow_lo, ow_hi):
                                dx[n, c, row, ow + j - pad] += cols[n, k, q + ow]
                        else:
                            for ow in range(ow_lo, ow_hi):
                                dx[n, c, row, ow * stride + j - pad] += cols[n, k, q + ow]


def _output_size(Py_ssize_t size, Py_ssize_t field, Py_ssize_t pad, Py_ssize_t stride, str axis):
    if stride < 1 or pad < 0 or field < 1:
        raise ValueError(f"need stride >= 1, pad >= 0, field >= 1; got stride={stride}, pad={pad}, "
                         f"field {axis}={field}")
    if size + 2 * pad < field:
        raise ValueError(f"filter {axis} {field} exceeds padded input {axis} {size} + 2*{pad}")
    return 1 + (size + 2 * pad - field) // stride


def im2col(const floating[:, :, :, ::1] x, Py_ssize_t field_height, Py_ssize_t field_width,
           Py_ssize_t pad, Py_ssize_t stride):
    """Unfold every receptive field of ``x`` into one column (compiled version).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64
    field_height, field_width : int
        Filter (or pooling window) size HH, WW.
    pad : int
        Zero padding on every side.
    stride : int

    Returns
    -------
    cols : ndarray, shape (N, C*HH*WW, H_out*W_out), same dtype as x,
        with H_out = 1 + (H + 2*pad - HH) // stride and W_out = 1 + (W + 2*pad - WW) // stride.
    """
    cdef Py_ssize_t out_height = _output_size(x.shape[2], field_height, pad, stride, "height")
    cdef Py_ssize_t out_width = _output_size(x.shape[3], field_width, pad, stride, "width")
    dtype = np.float32 if floating is float else np.float64
    cols_array = np.empty((x.shape[0], x.shape[1] * field_height * field_width, out_height * out_width),
                          dtype=dtype)
    cdef floating[:, :, ::1] cols = cols_array
    with nogil:
        _im2col(x, cols, field_height, field_width, pad, stride, out_height, out_width)
    return cols_array


def col2im(const floating[:, :, ::1] cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t field_height, Py_ssize_t field_width, Py_ssize_t pad, Py_ssize_t stride):
    """Sum columns back into an image: the adjoint of ``im2col`` (compiled version).

    Parameters
    ----------
    cols : ndarray, shape (N, C*HH*WW, H_out*W_out), C-contiguous float32 or float64
    N, C, H, W : int
        Shape of the (unpadded) image the columns came from.
    field_height, field_width, pad, stride : int
        As given to ``im2col``.

    Returns
    -------
    x : ndarray, shape (N, C, H, W), same dtype as cols; overlapping fields accumulate and the
        padding border is dropped.
    """
    cdef Py_ssize_t out_height = _output_size(H, field_height, pad, stride, "height")
    cdef Py_ssize_t out_width = _output_size(W, field_width, pad, stride, "width")
    if cols.shape[0] != N or cols.shape[1] != C * field_height * field_width \
            or cols.shape[2] != out_height * out_width:
        raise ValueError(f"cols shape ({cols.shape[0]}, {cols.shape[1]}, {cols.shape[2]}) does not match "
                         f"(N, C*HH*WW, H_out*W_out) = ({N}, {C * field_height * field_width}, "
                         f"{out_height * out_width})")
    dtype = np.float32 if floating is float else np.float64
    dx_array = np.zeros((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] dx = dx_array
    with nogil:
        _col2im(cols, dx, field_height, field_width, pad, stride, out_height, out_width)
    return dx_array
