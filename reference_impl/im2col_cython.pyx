# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled im2col / col2im for float32 and float64 images (one fused type, no OpenMP), and the max-pooling
kernels of fast_layers.

Layout shared with the NumPy fallback in ``im2col.py``: one matrix per image,
row ``k = (c * HH + i) * WW + j`` (channel, filter row, filter column),
column ``q = oh * W_out + ow`` (output row, output column), so
``cols[n, k, q] = x_padded[n, c, oh * stride + i, ow * stride + j]``; with ``batch_axis=1`` the image index
moves inside, ``cols[k, n, q]``.
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


cdef void _im2col(const floating[:, :, :, ::1] x, floating* cols, Py_ssize_t image_step, Py_ssize_t row_step,
                  Py_ssize_t field_height, Py_ssize_t field_width,
                  Py_ssize_t pad, Py_ssize_t stride,
                  Py_ssize_t out_height, Py_ssize_t out_width) noexcept nogil:
    # Row k of image n starts at cols + n * image_step + k * row_step (element strides: both layouts).
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, k, shift
    cdef Py_ssize_t oh_lo, oh_hi, ow_lo, ow_hi
    cdef floating* dst
    cdef const floating* src
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
                    dst = cols + n * image_step + k * row_step
                    shift = j - pad
                    for oh in range(out_height):
                        if oh < oh_lo or oh >= oh_hi:
                            for ow in range(out_width):
                                dst[ow] = 0
                        else:
                            src = &x[n, c, oh * stride + i - pad, 0]
                            for ow in range(ow_lo):
                                dst[ow] = 0
                            if stride == 1:  # contiguous runs: lets the C compiler vectorise the copy
                                for ow in range(ow_lo, ow_hi):
                                    dst[ow] = src[ow + shift]
                            elif stride == 2:  # a constant stride lets it vectorise this one too
                                for ow in range(ow_lo, ow_hi):
                                    dst[ow] = src[2 * ow + shift]
                            else:
                                for ow in range(ow_lo, ow_hi):
                                    dst[ow] = src[ow * stride + shift]
                            for ow in range(ow_hi, out_width):
                                dst[ow] = 0
                        dst += out_width


cdef void _col2im(const floating* cols, Py_ssize_t image_step, Py_ssize_t row_step, floating[:, :, :, ::1] dx,
                  Py_ssize_t field_height, Py_ssize_t field_width,
                  Py_ssize_t pad, Py_ssize_t stride,
                  Py_ssize_t out_height, Py_ssize_t out_width) noexcept nogil:
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t c, i, j, n, oh, ow, k, shift
    cdef Py_ssize_t oh_lo, oh_hi, ow_lo, ow_hi
    cdef const floating* src
    cdef floating* dst
    for n in range(N):
        for c in range(C):
            for i in range(field_height):
                oh_lo = _first_valid(i, pad, stride, out_height)
                oh_hi = _end_valid(i, pad, stride, H, out_height)
                for j in range(field_width):
                    ow_lo = _first_valid(j, pad, stride, out_width)
                    ow_hi = _end_valid(j, pad, stride, W, out_width)
                    k = (c * field_height + i) * field_width + j
                    shift = j - pad
                    for oh in range(oh_lo, oh_hi):
                        src = cols + n * image_step + k * row_step + oh * out_width
                        dst = &dx[n, c, oh * stride + i - pad, 0]
                        if stride == 1:  # contiguous runs: lets the C compiler vectorise the sum
                            for ow in range(ow_lo, ow_hi):
                                dst[ow + shift] += src[ow]
                        elif stride == 2:  # a constant stride lets it vectorise this one too
                            for ow in range(ow_lo, ow_hi):
                                dst[2 * ow + shift] += src[ow]
                        else:
                            for ow in range(ow_lo, ow_hi):
                                dst[ow * stride + shift] += src[ow]


def _output_size(Py_ssize_t size, Py_ssize_t field, Py_ssize_t pad, Py_ssize_t stride, str axis):
    if stride < 1 or pad < 0 or field < 1:
        raise ValueError(f"need stride >= 1, pad >= 0, field >= 1; got stride={stride}, pad={pad}, "
                         f"field {axis}={field}")
    if size + 2 * pad < field:
        raise ValueError(f"filter {axis} {field} exceeds padded input {axis} {size} + 2*{pad}")
    return 1 + (size + 2 * pad - field) // stride


def _output_array(out, shape, dtype, str name):
    """A new array of this shape and dtype, or ``out`` after checking it is one (C-contiguous)."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {np.dtype(dtype).name} array of shape {shape} for {name}")
    return out


def _layout_steps(Py_ssize_t N, Py_ssize_t K, Py_ssize_t Q, int batch_axis):
    """Element strides (image_step, row_step) of cols for batch_axis 0, (N, K, Q), or 1, (K, N, Q)."""
    if batch_axis == 0:
        return K * Q, Q
    if batch_axis == 1:
        return Q, N * Q
    raise ValueError(f"batch_axis must be 0 or 1; got {batch_axis}")


def im2col(const floating[:, :, :, ::1] x, Py_ssize_t field_height, Py_ssize_t field_width,
           Py_ssize_t pad, Py_ssize_t stride, *, int batch_axis=0, out=None):
    """Unfold every receptive field of ``x`` into one column (compiled version).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64
    field_height, field_width : int
        Filter (or pooling window) size HH, WW.
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
        (batch_axis=1), same dtype as x, with H_out = 1 + (H + 2*pad - HH) // stride and
        W_out = 1 + (W + 2*pad - WW) // stride.
    """
    cdef Py_ssize_t out_height = _output_size(x.shape[2], field_height, pad, stride, "height")
    cdef Py_ssize_t out_width = _output_size(x.shape[3], field_width, pad, stride, "width")
    cdef Py_ssize_t N = x.shape[0], K = x.shape[1] * field_height * field_width, Q = out_height * out_width
    cdef Py_ssize_t image_step, row_step
    image_step, row_step = _layout_steps(N, K, Q, batch_axis)
    dtype = np.float32 if floating is float else np.float64
    shape = (N, K, Q) if batch_axis == 0 else (K, N, Q)
    cols_array = _output_array(out, shape, dtype, "im2col")
    if cols_array.size == 0:
        return cols_array
    cdef floating[:, :, ::1] cols = cols_array
    with nogil:
        _im2col(x, &cols[0, 0, 0], image_step, row_step, field_height, field_width, pad, stride,
                out_height, out_width)
    return cols_array


def col2im(const floating[:, :, ::1] cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t field_height, Py_ssize_t field_width, Py_ssize_t pad, Py_ssize_t stride, *,
           int batch_axis=0, out=None):
    """Sum columns back into an image: the adjoint of ``im2col`` (compiled version).

    Parameters
    ----------
    cols : ndarray, shape (N, C*HH*WW, H_out*W_out) (batch_axis=0) or (C*HH*WW, N, H_out*W_out)
        (batch_axis=1), C-contiguous float32 or float64
    N, C, H, W : int
        Shape of the (unpadded) image the columns came from.
    field_height, field_width, pad, stride : int
        As given to ``im2col``.
    batch_axis : {0, 1}, keyword-only
        The layout of cols, as given to ``im2col``.
    out : ndarray, optional, keyword-only
        C-contiguous array of the result's shape and dtype to write into (and return) instead of a new one;
        its previous contents are overwritten.

    Returns
    -------
    x : ndarray, shape (N, C, H, W), same dtype as cols; overlapping fields accumulate and the
        padding border is dropped.
    """
    cdef Py_ssize_t out_height = _output_size(H, field_height, pad, stride, "height")
    cdef Py_ssize_t out_width = _output_size(W, field_width, pad, stride, "width")
    cdef Py_ssize_t K = C * field_height * field_width, Q = out_height * out_width
    cdef Py_ssize_t image_step, row_step
    image_step, row_step = _layout_steps(N, K, Q, batch_axis)
    expected = (N, K, Q) if batch_axis == 0 else (K, N, Q)
    if (cols.shape[0], cols.shape[1], cols.shape[2]) != expected:
        names = "(N, C*HH*WW, H_out*W_out)" if batch_axis == 0 else "(C*HH*WW, N, H_out*W_out)"
        raise ValueError(f"cols shape ({cols.shape[0]}, {cols.shape[1]}, {cols.shape[2]}) does not match "
                         f"{names} = {expected}")
    dtype = np.float32 if floating is float else np.float64
    dx_array = _output_array(out, (N, C, H, W), dtype, "col2im")
    dx_array.fill(0)
    if cols.shape[0] * cols.shape[1] * cols.shape[2] == 0 or dx_array.size == 0:
        return dx_array
    cdef floating[:, :, :, ::1] dx = dx_array
    with nogil:
        _col2im(&cols[0, 0, 0], image_step, row_step, dx, field_height, field_width, pad, stride,
                out_height, out_width)
    return dx_array


cdef void _max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                            Py_ssize_t pool_height, Py_ssize_t pool_width, Py_ssize_t stride) noexcept nogil:
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t n, c, oh, ow, i, j
    cdef floating best, value
    cdef int nan_seen
    cdef const floating* src
    cdef floating* dst
    # One output row at a time, all its windows together: the innermost loops run along the row as
    # compare-and-select without branches (random data would defeat branch prediction).
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                dst = &out[n, c, oh, 0]
                src = &x[n, c, oh * stride, 0]
                for ow in range(W_out):
                    dst[ow] = src[ow * stride]
                nan_seen = 0
                for i in range(pool_height):
                    src = &x[n, c, oh * stride + i, 0]
                    for j in range(pool_width):
                        for ow in range(W_out):
                            value = src[ow * stride + j]
                            best = dst[ow]
                            dst[ow] = value if value > best else best
                            nan_seen |= value != value
                if nan_seen:  # rare: as np.maximum, a window holding a NaN has a NaN maximum
                    for ow in range(W_out):
                        for i in range(pool_height):
                            src = &x[n, c, oh * stride + i, ow * stride]
                            for j in range(pool_width):
                                if src[j] != src[j]:
                                    dst[ow] = src[j]


cdef void _max_pool_backward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] out,
                             const floating[:, :, :, ::1] dout, floating[:, :, :, ::1] dx,
                             Py_ssize_t pool_height, Py_ssize_t pool_width, Py_ssize_t stride,
                             bint tiles, Py_ssize_t* target) noexcept nogil:
    # target: scratch space for W_out window offsets.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t W = x.shape[3]
    cdef Py_ssize_t n, c, oh, ow, i, j, offset, hit, found, last
    cdef const floating* window
    cdef const floating* src
    cdef const floating* best
    cdef const floating* grad_out
    cdef floating* grad
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                best = &out[n, c, oh, 0]
                grad_out = &dout[n, c, oh, 0]
                # Each window's gradient goes to its first position equal to the maximum in row-major order,
                # or to its last position if none is (a NaN maximum). Scanning the offsets backwards, the last
                # match seen is the first one; an arithmetic select, as compilers may turn a ternary into a
                # branch that random data would make unpredictable.
                for ow in range(W_out):
                    window = &x[n, c, oh * stride, ow * stride]
                    last = (pool_height - 1) * W + pool_width - 1
                    found = last
                    for i in range(pool_height - 1, -1, -1):
                        for j in range(pool_width - 1, -1, -1):
                            offset = i * W + j
                            hit = window[offset] == best[ow]
                            found += hit * (offset - found)
                    target[ow] = found
                grad = &dx[n, c, oh * stride, 0]
                if tiles:  # every pixel lies in exactly one window: zero the windows, then place the gradients
                    for i in range(pool_height):
                        for j in range(pool_width):
                            offset = i * W + j
                            for ow in range(W_out):
                                grad[offset + ow * stride] = 0
                    for ow in range(W_out):
                        grad[ow * stride + target[ow]] = grad_out[ow]
                else:  # overlapping windows may share their maximum: accumulate (dx starts at zero)
                    for ow in range(W_out):
                        grad[ow * stride + target[ow]] += grad_out[ow]


cdef void _max_pool_forward_2x2(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out) noexcept nogil:
    # 2x2 windows, stride 2: straight-line compare-and-select per window, which the compiler can vectorise.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t W = x.shape[3]
    cdef Py_ssize_t n, c, oh, ow
    cdef floating a, b, d, e, best
    cdef int nan_seen
    cdef const floating* top
    cdef floating* dst
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                top = &x[n, c, 2 * oh, 0]
                dst = &out[n, c, oh, 0]
                nan_seen = 0
                for ow in range(W_out):
                    a, b, d, e = top[2 * ow], top[2 * ow + 1], top[W + 2 * ow], top[W + 2 * ow + 1]
                    best = a
                    best = b if b > best else best
                    best = d if d > best else best
                    best = e if e > best else best
                    dst[ow] = best
                    nan_seen |= (a != a) | (b != b) | (d != d) | (e != e)
                if nan_seen:  # rare: as np.maximum, a window holding a NaN has a NaN maximum
                    for ow in range(W_out):
                        for a in (top[2 * ow], top[2 * ow + 1], top[W + 2 * ow], top[W + 2 * ow + 1]):
                            if a != a:
                                dst[ow] = a


cdef void _max_pool_backward_2x2(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] out,
                                 const floating[:, :, :, ::1] dout, floating[:, :, :, ::1] dx) noexcept nogil:
    # 2x2 windows, stride 2, tiling the input: every position of dx is written once. The gradient is multiplied
    # by 0/1 indicators of the first maximum (as the NumPy path does), which keeps the loop free of branches.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t W = x.shape[3]
    cdef Py_ssize_t n, c, oh, ow
    cdef floating best, grad
    cdef int is_a, is_b, is_d, not_a, not_b, not_d
    cdef const floating* top
    cdef const floating* row_best
    cdef const floating* row_grad
    cdef floating* dst
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                top = &x[n, c, 2 * oh, 0]
                dst = &dx[n, c, 2 * oh, 0]
                row_best = &out[n, c, oh, 0]
                row_grad = &dout[n, c, oh, 0]
                for ow in range(W_out):
                    best = row_best[ow]
                    grad = row_grad[ow]
                    is_a = top[2 * ow] == best
                    is_b = top[2 * ow + 1] == best
                    is_d = top[W + 2 * ow] == best
                    not_a, not_b, not_d = 1 - is_a, 1 - is_b, 1 - is_d
                    dst[2 * ow] = grad * <floating>is_a
                    dst[2 * ow + 1] = grad * <floating>(not_a * is_b)
                    dst[W + 2 * ow] = grad * <floating>(not_a * not_b * is_d)
                    # No match before the last position (or a NaN maximum): the last one.
                    dst[W + 2 * ow + 1] = grad * <floating>(not_a * not_b * not_d)


def max_pool_forward(const floating[:, :, :, ::1] x, Py_ssize_t pool_height, Py_ssize_t pool_width,
                     Py_ssize_t stride):
    """Max pooling without padding (compiled version of max_pool_forward_fast's arithmetic).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64
    pool_height, pool_width, stride : int
        Positive; the window must fit in the input.

    Returns
    -------
    out : ndarray, shape (N, C, H', W'), same dtype as x, with H' = 1 + (H - pool_height) // stride and
        W' = 1 + (W - pool_width) // stride; a window holding a NaN gives NaN, as np.maximum does.
    """
    if pool_height < 1 or pool_width < 1 or stride < 1 or pool_height > x.shape[2] or pool_width > x.shape[3]:
        raise ValueError(f"bad pooling geometry: window {pool_height}x{pool_width}, stride {stride}, "
                         f"input {x.shape[2]}x{x.shape[3]}")
    dtype = np.float32 if floating is float else np.float64
    out_array = np.empty((x.shape[0], x.shape[1], 1 + (x.shape[2] - pool_height) // stride,
                          1 + (x.shape[3] - pool_width) // stride), dtype=dtype)
    if out_array.size == 0:
        return out_array
    cdef floating[:, :, :, ::1] out = out_array
    with nogil:
        if pool_height == pool_width == stride == 2:
            _max_pool_forward_2x2(x, out)
        else:
            _max_pool_forward(x, out, pool_height, pool_width, stride)
    return out_array


def max_pool_backward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] out,
                      const floating[:, :, :, ::1] dout, Py_ssize_t pool_height, Py_ssize_t pool_width,
                      Py_ssize_t stride):
    """Route each window's gradient to the first maximum (row-major) of its window (compiled version).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64
    out : ndarray, shape (N, C, H', W'), as returned by max_pool_forward(x, ...), same dtype
    dout : ndarray, shape (N, C, H', W'), same dtype
    pool_height, pool_width, stride : int
        As given to max_pool_forward.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), same dtype; gradients of overlapping windows sharing a maximum add up,
        a window whose maximum is NaN sends its gradient to its last position.
    """
    cdef Py_ssize_t H_out, W_out
    if pool_height < 1 or pool_width < 1 or stride < 1 or pool_height > x.shape[2] or pool_width > x.shape[3]:
        raise ValueError(f"bad pooling geometry: window {pool_height}x{pool_width}, stride {stride}, "
                         f"input {x.shape[2]}x{x.shape[3]}")
    H_out, W_out = 1 + (x.shape[2] - pool_height) // stride, 1 + (x.shape[3] - pool_width) // stride
    shape = (x.shape[0], x.shape[1], H_out, W_out)
    if (out.shape[0], out.shape[1], out.shape[2], out.shape[3]) != shape \
            or (dout.shape[0], dout.shape[1], dout.shape[2], dout.shape[3]) != shape:
        raise ValueError(f"out and dout must have shape {shape}")
    cdef bint tiles = (pool_height == pool_width == stride and x.shape[2] % stride == 0
                       and x.shape[3] % stride == 0)
    dtype = np.float32 if floating is float else np.float64
    dx_array = (np.empty if tiles else np.zeros)((x.shape[0], x.shape[1], x.shape[2], x.shape[3]), dtype=dtype)
    if dx_array.size == 0 or out.shape[0] * out.shape[1] == 0:
        return dx_array
    cdef floating[:, :, :, ::1] dx = dx_array
    cdef Py_ssize_t[::1] target = np.empty(W_out, dtype=np.intp)
    with nogil:
        if tiles and pool_height == 2:
            _max_pool_backward_2x2(x, out, dout, dx)
        else:
            _max_pool_backward(x, out, dout, dx, pool_height, pool_width, stride, tiles, &target[0])
    return dx_array
