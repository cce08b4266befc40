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
from libc.string cimport memcpy


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


cdef void _max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, int[:, :, :, ::1] argmax,
                            Py_ssize_t pool_height, Py_ssize_t pool_width, Py_ssize_t stride) noexcept nogil:
    # argmax[n, c, oh, ow]: flat index into the (H, W) plane of x of the window's first maximum in row-major
    # order (its last position when the window holds a NaN), so that backward only scatters.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t W = x.shape[3]
    cdef Py_ssize_t n, c, oh, ow, i, j, row
    cdef floating best, value
    cdef int nan_seen, better
    cdef const floating* src
    cdef floating* dst
    cdef int* where
    # One output row at a time, all its windows together: the innermost loops run along the row as
    # compare-and-select without branches (random data would defeat branch prediction).
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                dst = &out[n, c, oh, 0]
                where = &argmax[n, c, oh, 0]
                src = &x[n, c, oh * stride, 0]
                for ow in range(W_out):
                    dst[ow] = src[ow * stride]
                    where[ow] = <int>(oh * stride * W + ow * stride)
                nan_seen = 0
                for i in range(pool_height):
                    row = oh * stride + i
                    src = &x[n, c, row, 0]
                    for j in range(pool_width):
                        for ow in range(W_out):
                            value = src[ow * stride + j]
                            best = dst[ow]
                            better = value > best
                            dst[ow] = value if value > best else best
                            # An arithmetic select: a second conditional on the same test would make the
                            # compiler branch, and random data defeats branch prediction.
                            where[ow] += better * (<int>(row * W + ow * stride + j) - where[ow])
                            nan_seen |= value != value
                if nan_seen:  # rare: as np.maximum, a window holding a NaN has a NaN maximum
                    for ow in range(W_out):
                        for i in range(pool_height):
                            src = &x[n, c, oh * stride + i, ow * stride]
                            for j in range(pool_width):
                                if src[j] != src[j]:
                                    dst[ow] = src[j]
                                    where[ow] = <int>((oh * stride + pool_height - 1) * W + ow * stride
                                                      + pool_width - 1)


cdef void _max_pool_forward_2x2(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                                int[:, :, :, ::1] argmax) noexcept nogil:
    # 2x2 windows, stride 2: straight-line compare-and-select per window, which the compiler can vectorise.
    cdef Py_ssize_t N = out.shape[0], C = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t W = x.shape[3]
    cdef Py_ssize_t n, c, oh, ow
    cdef floating a, b, d, e, best
    cdef int nan_seen, offset, corner, better
    cdef const floating* top
    cdef floating* dst
    cdef int* where
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                top = &x[n, c, 2 * oh, 0]
                dst = &out[n, c, oh, 0]
                where = &argmax[n, c, oh, 0]
                corner = <int>(2 * oh * W)
                nan_seen = 0
                for ow in range(W_out):
                    a, b, d, e = top[2 * ow], top[2 * ow + 1], top[W + 2 * ow], top[W + 2 * ow + 1]
                    # Arithmetic selects for the offset (see _max_pool_forward), compare-and-select for best.
                    best = a
                    offset = 0
                    better = b > best
                    offset += better * (1 - offset)
                    best = b if b > best else best
                    better = d > best
                    offset += better * (<int>W - offset)
                    best = d if d > best else best
                    better = e > best
                    offset += better * (<int>W + 1 - offset)
                    best = e if e > best else best
                    dst[ow] = best
                    where[ow] = corner + <int>(2 * ow) + offset
                    nan_seen |= (a != a) | (b != b) | (d != d) | (e != e)
                if nan_seen:  # rare: as np.maximum, a window holding a NaN has a NaN maximum, routed last
                    for ow in range(W_out):
                        for a in (top[2 * ow], top[2 * ow + 1], top[W + 2 * ow], top[W + 2 * ow + 1]):
                            if a != a:
                                dst[ow] = a
                                where[ow] = corner + <int>(W + 2 * ow + 1)


cdef void _max_pool_scatter(const floating[:, :, :, ::1] dout, const int[:, :, :, ::1] argmax,
                            floating[:, :, :, ::1] dx) noexcept nogil:
    # dx plane by plane: zero it (it stays in cache), then add each window's gradient at its recorded maximum;
    # overlapping windows sharing a maximum add up.
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], Q = dout.shape[2] * dout.shape[3]
    cdef Py_ssize_t plane = dx.shape[2] * dx.shape[3]
    cdef Py_ssize_t n, c, q
    cdef floating* grad
    cdef const floating* grad_out
    cdef const int* where
    for n in range(N):
        for c in range(C):
            grad = &dx[n, c, 0, 0]
            grad_out = &dout[n, c, 0, 0]
            where = &argmax[n, c, 0, 0]
            for q in range(plane):
                grad[q] = 0
            for q in range(Q):
                grad[where[q]] += grad_out[q]


def max_pool_forward(const floating[:, :, :, ::1] x, Py_ssize_t pool_height, Py_ssize_t pool_width,
                     Py_ssize_t stride, *, out=None, argmax=None):
    """Max pooling without padding, recording where each maximum is (compiled version of
    max_pool_forward_fast's arithmetic).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64, with H * W < 2**31
    pool_height, pool_width, stride : int
        Positive; the window must fit in the input.
    out, argmax : ndarray, optional, keyword-only
        C-contiguous arrays of the results' shape and dtype to write into (and return), both or neither.

    Returns
    -------
    out : ndarray, shape (N, C, H', W'), same dtype as x, with H' = 1 + (H - pool_height) // stride and
        W' = 1 + (W - pool_width) // stride; a window holding a NaN gives NaN, as np.maximum does.
    argmax : ndarray of int32, shape (N, C, H', W')
        Flat index into the (H, W) plane of each window's first maximum in row-major order (of its last
        position if the window holds a NaN), for max_pool_backward.
    """
    if pool_height < 1 or pool_width < 1 or stride < 1 or pool_height > x.shape[2] or pool_width > x.shape[3]:
        raise ValueError(f"bad pooling geometry: window {pool_height}x{pool_width}, stride {stride}, "
                         f"input {x.shape[2]}x{x.shape[3]}")
    if x.shape[2] * x.shape[3] >= 2 ** 31:
        raise ValueError(f"an input plane of {x.shape[2]}x{x.shape[3]} does not fit int32 indices")
    dtype = np.float32 if floating is float else np.float64
    shape = (x.shape[0], x.shape[1], 1 + (x.shape[2] - pool_height) // stride,
             1 + (x.shape[3] - pool_width) // stride)
    if (out is None) != (argmax is None):
        raise ValueError("max_pool_forward takes out and argmax together, or neither")
    out_array = _output_array(out, shape, dtype, "max_pool_forward")
    argmax_array = _output_array(argmax, shape, np.int32, "max_pool_forward's argmax")
    if out_array.size == 0:
        return out_array, argmax_array
    cdef floating[:, :, :, ::1] out_view = out_array
    cdef int[:, :, :, ::1] argmax_view = argmax_array
    with nogil:
        if pool_height == pool_width == stride == 2:
            _max_pool_forward_2x2(x, out_view, argmax_view)
        else:
            _max_pool_forward(x, out_view, argmax_view, pool_height, pool_width, stride)
    return out_array, argmax_array


def max_pool_backward(const floating[:, :, :, ::1] dout, const int[:, :, :, ::1] argmax, Py_ssize_t H,
                      Py_ssize_t W, *, out=None):
    """Send each window's gradient to the maximum max_pool_forward recorded (compiled version).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W'), C-contiguous float32 or float64
    argmax : ndarray of int32, shape (N, C, H', W'), as returned by max_pool_forward
    H, W : int
        Height and width of the pooled input.
    out : ndarray, optional, keyword-only
        C-contiguous array of dx's shape and dtype to write into (and return).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout; gradients of overlapping windows sharing a maximum add
        up, positions no window picked are zero.
    """
    cdef Py_ssize_t plane = H * W
    shape = (dout.shape[0], dout.shape[1], dout.shape[2], dout.shape[3])
    if (argmax.shape[0], argmax.shape[1], argmax.shape[2], argmax.shape[3]) != shape:
        raise ValueError(f"argmax must have dout's shape {shape}")
    dtype = np.float32 if floating is float else np.float64
    dx_array = _output_array(out, (shape[0], shape[1], H, W), dtype, "max_pool_backward")
    if dx_array.size == 0:
        return dx_array
    if np.asarray(argmax).size and not 0 <= np.min(argmax) <= np.max(argmax) < plane:
        raise ValueError(f"argmax holds indices outside an input plane of {H}x{W}")
    cdef floating[:, :, :, ::1] dx = dx_array
    with nogil:
        _max_pool_scatter(dout, argmax, dx)
    return dx_array


# Winograd F(2x2, 3x3) transforms of 3x3 stride-1 convolution (see fast_layers._winograd_forward). Tile (ti, tj) of
# an image covers output rows 2*ti, 2*ti+1 and columns 2*tj, 2*tj+1 and reads the 4x4 patch of the padded input
# starting at row 2*ti, column 2*tj. Transformed arrays hold one (channel, image * tile) matrix per position
# k = 4 * a + b of the 4x4 transformed tile.
# In one dimension: input d -> (d0 - d2, d1 + d2, d2 - d1, d1 - d3); product m -> (m0 + m1 + m2, m1 - m2 - m3).
#
# Each row of tiles gets one dummy tile at its end, so that an image's tiles are t = ti * L + tj with
# L = tiles_w + 1: then the padded input split into its four polyphase components (even/odd rows x even/odd
# columns, each of (tiles_h + 1) rows of L) holds entry (i, j) of every tile's 4x4 patch at the same offset from
# t, namely component (i % 2, j % 2) at t + (i // 2) * L + j // 2. Every innermost loop runs once along a whole
# plane of tiles, without branches, and the C compiler vectorises it (loops along a row of tiles, a few
# elements long on small images, cost about twice as much). The dummy tiles' transforms are computed (their
# products too, the price of the long loops) and dropped by the output transform.
# Layouts: V[k, c, n * T + t] and M[k, f, n * T + t] with T = tiles_h * L.


def _winograd_tiles(Py_ssize_t H, Py_ssize_t W, Py_ssize_t pad):
    """(tiles_h, tiles_w, H_out, W_out) of a 3x3 stride-1 convolution of an H x W input with this padding."""
    if pad < 0 or H + 2 * pad < 3 or W + 2 * pad < 3:
        raise ValueError(f"a 3x3 filter does not fit an input of {H}x{W} padded by {pad}")
    H_out, W_out = H + 2 * pad - 2, W + 2 * pad - 2
    return (H_out + 1) // 2, (W_out + 1) // 2, H_out, W_out


cdef inline void _sub_into(floating* dst, const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = a[i] - b[i]


cdef inline void _add_into(floating* dst, const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = a[i] + b[i]


cdef void _winograd_input_planes(const floating[:, :, :, ::1] x, floating* V, floating* phases, floating* lines,
                                 Py_ssize_t pad, Py_ssize_t tiles_h, Py_ssize_t tiles_w) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t L = tiles_w + 1, T = tiles_h * (tiles_w + 1), S = (tiles_h + 1) * (tiles_w + 1) + 1
    cdef Py_ssize_t kstep = C * N * T
    cdef Py_ssize_t n, c, r, j, q, first, count, a
    cdef const floating* src
    cdef floating* dst
    cdef floating* v
    cdef floating* e
    cdef floating* o
    # The four components, S each: rows even/odd of the padded plane, then columns even/odd.
    cdef floating* A = phases
    cdef floating* B = phases + S
    cdef floating* D = phases + 2 * S
    cdef floating* E = phases + 3 * S
    for n in range(N):
        for c in range(C):
            # The plane inside the zero border (positions outside the image are never written: they stay zero).
            for r in range(H):
                src = &x[n, c, r, 0]
                for q in range(2):  # the columns of padded parity q: s = first, first + 2, ...
                    first = (q + pad) % 2
                    count = (W - first + 1) // 2
                    dst = phases + (2 * ((r + pad) % 2) + q) * S + ((r + pad) // 2) * L + (first + pad) // 2
                    for j in range(count):
                        dst[j] = src[first + 2 * j]
            # B^T down the columns: line a of the tiles in its even and odd columns (e, o), T + 1 each ...
            _sub_into(lines, A, A + L, T + 1)
            _sub_into(lines + (T + 1), B, B + L, T + 1)
            _add_into(lines + 2 * (T + 1), D, A + L, T + 1)
            _add_into(lines + 3 * (T + 1), E, B + L, T + 1)
            _sub_into(lines + 4 * (T + 1), A + L, D, T + 1)
            _sub_into(lines + 5 * (T + 1), B + L, E, T + 1)
            _sub_into(lines + 6 * (T + 1), D, D + L, T + 1)
            _sub_into(lines + 7 * (T + 1), E, E + L, T + 1)
            # ... then B along the rows: columns 0..3 of a tile are e[t], o[t], e[t + 1], o[t + 1].
            v = V + c * (N * T) + n * T
            for a in range(4):
                e = lines + 2 * a * (T + 1)
                o = e + (T + 1)
                _sub_into(v + 4 * a * kstep, e, e + 1, T)
                _add_into(v + (4 * a + 1) * kstep, o, e + 1, T)
                _sub_into(v + (4 * a + 2) * kstep, e + 1, o, T)
                _sub_into(v + (4 * a + 3) * kstep, o, o + 1, T)


cdef void _winograd_output_planes(const floating* M, const floating* bias, floating[:, :, :, ::1] out,
                                  floating* u, Py_ssize_t tiles_h, Py_ssize_t tiles_w) noexcept nogil:
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t L = tiles_w + 1, T = tiles_h * (tiles_w + 1)
    cdef Py_ssize_t kstep = F * N * T
    cdef Py_ssize_t n, f, t, j, ti, tj, a, half = W_out // 2
    cdef const floating* m
    cdef const floating* w
    cdef floating* u0
    cdef floating* u1
    cdef floating* dst
    cdef floating b
    for n in range(N):
        for f in range(F):
            b = bias[f]
            m = M + f * (N * T) + n * T
            for j in range(4):  # A^T down the columns: u[a * 4 + j] = A^T[a] . m[:, j] over the plane of tiles
                u0 = u + j * T
                u1 = u + (4 + j) * T
                for t in range(T):
                    u0[t] = m[j * kstep + t] + m[(4 + j) * kstep + t] + m[(8 + j) * kstep + t]
                    u1[t] = m[(4 + j) * kstep + t] - m[(8 + j) * kstep + t] - m[(12 + j) * kstep + t]
            # Then A^T along the rows, straight into the output rows 2 * ti + a, plus the bias; the dummy tiles
            # and, for an odd output size, the last tile's second row or column are left out.
            for ti in range(tiles_h):
                for a in range(2):
                    if 2 * ti + a >= H_out:
                        break
                    w = u + 4 * a * T + ti * L
                    dst = &out[n, f, 2 * ti + a, 0]
                    for tj in range(half):
                        dst[2 * tj] = w[tj] + w[T + tj] + w[2 * T + tj] + b
                        dst[2 * tj + 1] = w[T + tj] - w[2 * T + tj] - w[3 * T + tj] + b
                    if W_out % 2:
                        dst[W_out - 1] = w[half] + w[T + half] + w[2 * T + half] + b


def winograd_input_planes(const floating[:, :, :, ::1] x, Py_ssize_t pad, *, out=None):
    """Winograd F(2x2, 3x3) input transform B^T d B of every 4x4 input tile, plus one dummy tile per row of
    tiles (compiled).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32 or float64
    pad : int
        Zero padding of the 3x3 stride-1 convolution.
    out : ndarray, optional, keyword-only
        C-contiguous array of the result's shape and dtype to write into (and return).

    Returns
    -------
    V : ndarray, shape (16, C, N * T), dtype of x, with T = tiles_h * (tiles_w + 1), tiles_h = ceil(H'/2),
        tiles_w = ceil(W'/2), H' = H + 2 * pad - 2, W' = W + 2 * pad - 2:
        V[4 * a + b, c, n * T + ti * (tiles_w + 1) + tj] is entry (a, b) of the transformed tile (ti, tj) of
        channel c of image n for tj < tiles_w; the entries of the dummy tiles, tj == tiles_w, are unspecified.
    """
    cdef Py_ssize_t tiles_h, tiles_w
    tiles_h, tiles_w, _, _ = _winograd_tiles(x.shape[2], x.shape[3], pad)
    cdef Py_ssize_t T = tiles_h * (tiles_w + 1), S = (tiles_h + 1) * (tiles_w + 1) + 1
    dtype = np.float32 if floating is float else np.float64
    V_array = _output_array(out, (16, x.shape[1], x.shape[0] * T), dtype, "winograd_input_planes")
    if V_array.size == 0:
        return V_array
    phases_array = np.zeros(4 * S, dtype=dtype)
    lines_array = np.empty(8 * (T + 1), dtype=dtype)
    cdef floating[::1] phases = phases_array, lines = lines_array
    cdef floating[:, :, ::1] V = V_array
    with nogil:
        _winograd_input_planes(x, &V[0, 0, 0], &phases[0], &lines[0], pad, tiles_h, tiles_w)
    return V_array


def winograd_output_planes(const floating[:, :, ::1] M, const floating[::1] bias, Py_ssize_t N, Py_ssize_t H_out,
                           Py_ssize_t W_out, *, out=None):
    """Winograd F(2x2, 3x3) output transform A^T m A of every tile, plus the bias, from products laid out as
    winograd_input_planes's result (compiled).

    Parameters
    ----------
    M : ndarray, shape (16, F, N * T), C-contiguous float32 or float64, T = ceil(H'/2) * (ceil(W'/2) + 1): the
        products of transformed filters and winograd_input_planes's transformed tiles (dummy tiles ignored)
    bias : ndarray, shape (F,), same dtype
    N, H_out, W_out : int
        Number of images and the output's height and width.
    out : ndarray, optional, keyword-only
        C-contiguous (N, F, H', W') array of M's dtype to write into (and return).

    Returns
    -------
    out : ndarray, shape (N, F, H', W'), dtype of M.
    """
    if H_out < 1 or W_out < 1:
        raise ValueError(f"need a positive output size; got {H_out}x{W_out}")
    cdef Py_ssize_t tiles_h = (H_out + 1) // 2, tiles_w = (W_out + 1) // 2
    cdef Py_ssize_t T = tiles_h * (tiles_w + 1)
    F = M.shape[1]
    if M.shape[0] != 16 or M.shape[2] != N * T or bias.shape[0] != F:
        raise ValueError(f"M has shape ({M.shape[0]}, {M.shape[1]}, {M.shape[2]}) and bias {bias.shape[0]} "
                         f"entries; expected (16, F, {N * T}) and F")
    dtype = np.float32 if floating is float else np.float64
    out_array = _output_array(out, (N, F, H_out, W_out), dtype, "winograd_output_planes")
    if out_array.size == 0:
        return out_array
    u_array = np.empty(8 * T, dtype=dtype)
    cdef floating[::1] u = u_array
    cdef floating[:, :, :, ::1] result = out_array
    with nogil:
        _winograd_output_planes(&M[0, 0, 0], &bias[0], result, &u[0], tiles_h, tiles_w)
    return out_array


cdef inline void _add_to(floating* dst, const floating* a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] += a[i]


cdef inline void _sub_from(floating* dst, const floating* a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] -= a[i]


cdef void _winograd_input_planes_adjoint(const floating* dV, floating[:, :, :, ::1] dx, floating* phases,
                                         floating* lines, Py_ssize_t pad, Py_ssize_t tiles_h,
                                         Py_ssize_t tiles_w) noexcept nogil:
    # _winograd_input_planes's steps transposed, last first: every "dst = a - b" becomes "da += d; db -= d".
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t L = tiles_w + 1, T = tiles_h * (tiles_w + 1), S = (tiles_h + 1) * (tiles_w + 1) + 1
    cdef Py_ssize_t kstep = C * N * T
    cdef Py_ssize_t n, c, r, j, q, first, count, a, i
    cdef const floating* src
    cdef const floating* v
    cdef floating* dst
    cdef floating* e
    cdef floating* o
    cdef floating* A = phases
    cdef floating* B = phases + S
    cdef floating* D = phases + 2 * S
    cdef floating* E = phases + 3 * S
    for n in range(N):
        for c in range(C):
            for i in range(8 * (T + 1)):
                lines[i] = 0
            for i in range(4 * S):
                phases[i] = 0
            v = dV + c * (N * T) + n * T
            for a in range(4):  # B along the rows, transposed
                e = lines + 2 * a * (T + 1)
                o = e + (T + 1)
                _add_to(e, v + 4 * a * kstep, T)
                _sub_from(e + 1, v + 4 * a * kstep, T)
                _add_to(o, v + (4 * a + 1) * kstep, T)
                _add_to(e + 1, v + (4 * a + 1) * kstep, T)
                _add_to(e + 1, v + (4 * a + 2) * kstep, T)
                _sub_from(o, v + (4 * a + 2) * kstep, T)
                _add_to(o, v + (4 * a + 3) * kstep, T)
                _sub_from(o + 1, v + (4 * a + 3) * kstep, T)
            # B^T down the columns, transposed
            _add_to(A, lines, T + 1)
            _sub_from(A + L, lines, T + 1)
            _add_to(B, lines + (T + 1), T + 1)
            _sub_from(B + L, lines + (T + 1), T + 1)
            _add_to(D, lines + 2 * (T + 1), T + 1)
            _add_to(A + L, lines + 2 * (T + 1), T + 1)
            _add_to(E, lines + 3 * (T + 1), T + 1)
            _add_to(B + L, lines + 3 * (T + 1), T + 1)
            _add_to(A + L, lines + 4 * (T + 1), T + 1)
            _sub_from(D, lines + 4 * (T + 1), T + 1)
            _add_to(B + L, lines + 5 * (T + 1), T + 1)
            _sub_from(E, lines + 5 * (T + 1), T + 1)
            _add_to(D, lines + 6 * (T + 1), T + 1)
            _sub_from(D + L, lines + 6 * (T + 1), T + 1)
            _add_to(E, lines + 7 * (T + 1), T + 1)
            _sub_from(E + L, lines + 7 * (T + 1), T + 1)
            # The image's positions of the components (the padding border is dropped).
            for r in range(H):
                dst = &dx[n, c, r, 0]
                for q in range(2):
                    first = (q + pad) % 2
                    count = (W - first + 1) // 2
                    src = phases + (2 * ((r + pad) % 2) + q) * S + ((r + pad) // 2) * L + (first + pad) // 2
                    for j in range(count):
                        dst[first + 2 * j] = src[j]


cdef void _winograd_output_planes_adjoint(const floating[:, :, :, ::1] dout, floating* dM, floating* u,
                                          Py_ssize_t tiles_h, Py_ssize_t tiles_w) noexcept nogil:
    # Transposed 1-D output transform: (y0, y1) -> (y0, y0 + y1, y0 - y1, -y1); zero at the dummy tiles and
    # where an odd output size leaves a tile's second row or column out.
    cdef Py_ssize_t N = dout.shape[0], F = dout.shape[1], H_out = dout.shape[2], W_out = dout.shape[3]
    cdef Py_ssize_t L = tiles_w + 1, T = tiles_h * (tiles_w + 1)
    cdef Py_ssize_t kstep = F * N * T
    cdef Py_ssize_t n, f, t, j, ti, tj, a, half = W_out // 2
    cdef const floating* src
    cdef floating* w
    cdef floating* m
    cdef floating g0, g1
    for n in range(N):
        for f in range(F):
            for ti in range(tiles_h):  # along the rows: u[4 * a + j] from output row 2 * ti + a
                for a in range(2):
                    w = u + 4 * a * T + ti * L
                    if 2 * ti + a >= H_out:
                        for j in range(4):
                            for tj in range(L):
                                w[j * T + tj] = 0
                        continue
                    src = &dout[n, f, 2 * ti + a, 0]
                    for tj in range(half):
                        g0, g1 = src[2 * tj], src[2 * tj + 1]
                        w[tj] = g0
                        w[T + tj] = g0 + g1
                        w[2 * T + tj] = g0 - g1
                        w[3 * T + tj] = -g1
                    for tj in range(half, L):  # the odd last column, then the dummy tile
                        g0 = src[W_out - 1] if tj < tiles_w else 0
                        w[tj] = g0
                        w[T + tj] = g0
                        w[2 * T + tj] = g0
                        w[3 * T + tj] = 0
            m = dM + f * (N * T) + n * T
            for j in range(4):  # then down the columns, over the plane of tiles
                for t in range(T):
                    m[j * kstep + t] = u[j * T + t]
                    m[(4 + j) * kstep + t] = u[j * T + t] + u[(4 + j) * T + t]
                    m[(8 + j) * kstep + t] = u[j * T + t] - u[(4 + j) * T + t]
                    m[(12 + j) * kstep + t] = -u[(4 + j) * T + t]


def winograd_input_planes_adjoint(const floating[:, :, ::1] dV, Py_ssize_t N, Py_ssize_t H, Py_ssize_t W,
                                  Py_ssize_t pad, *, out=None):
    """Adjoint of ``winograd_input_planes`` (compiled).

    Parameters
    ----------
    dV : ndarray, shape (16, C, N * T), C-contiguous float32 or float64, laid out as winograd_input_planes's
        result (T = tiles_h * (tiles_w + 1)); the backward pass gives zeros at the dummy tiles
    N, H, W : int
        Number of images and their height and width.
    pad : int
        As given to winograd_input_planes.
    out : ndarray, optional, keyword-only
        C-contiguous (N, C, H, W) array of dV's dtype to write into (and return); overwritten.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dV; the padding border is dropped.
    """
    cdef Py_ssize_t tiles_h, tiles_w
    tiles_h, tiles_w, _, _ = _winograd_tiles(H, W, pad)
    cdef Py_ssize_t T = tiles_h * (tiles_w + 1), S = (tiles_h + 1) * (tiles_w + 1) + 1
    C = dV.shape[1]
    if dV.shape[0] != 16 or dV.shape[2] != N * T:
        raise ValueError(f"dV has shape ({dV.shape[0]}, {dV.shape[1]}, {dV.shape[2]}); expected "
                         f"(16, C, {N * T})")
    dtype = np.float32 if floating is float else np.float64
    dx_array = _output_array(out, (N, C, H, W), dtype, "winograd_input_planes_adjoint")
    if dx_array.size == 0:
        return dx_array
    phases_array = np.empty(4 * S, dtype=dtype)
    lines_array = np.empty(8 * (T + 1), dtype=dtype)
    cdef floating[::1] phases = phases_array, lines = lines_array
    cdef floating[:, :, :, ::1] dx = dx_array
    with nogil:
        _winograd_input_planes_adjoint(&dV[0, 0, 0], dx, &phases[0], &lines[0], pad, tiles_h, tiles_w)
    return dx_array


def winograd_output_planes_adjoint(const floating[:, :, :, ::1] dout, *, out=None):
    """Adjoint of ``winograd_output_planes`` without the bias (compiled).

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W'), C-contiguous float32 or float64
    out : ndarray, optional, keyword-only
        C-contiguous array of the result's shape and dtype to write into (and return).

    Returns
    -------
    dM : ndarray, shape (16, F, N * T), dtype of dout, laid out as winograd_output_planes's M
        (T = ceil(H'/2) * (ceil(W'/2) + 1)): zero at the dummy tiles.
    """
    cdef Py_ssize_t N = dout.shape[0], F = dout.shape[1], H_out = dout.shape[2], W_out = dout.shape[3]
    cdef Py_ssize_t tiles_h = (H_out + 1) // 2, tiles_w = (W_out + 1) // 2
    cdef Py_ssize_t T = tiles_h * (tiles_w + 1)
    dtype = np.float32 if floating is float else np.float64
    dM_array = _output_array(out, (16, F, N * T), dtype, "winograd_output_planes_adjoint")
    if dM_array.size == 0:
        return dM_array
    u_array = np.empty(8 * T, dtype=dtype)
    cdef floating[::1] u = u_array
    cdef floating[:, :, ::1] dM = dM_array
    with nogil:
        _winograd_output_planes_adjoint(dout, &dM[0, 0, 0], &u[0], tiles_h, tiles_w)
    return dM_array


# Direct float32 convolution, for fast_layers' shapes where im2col's matrix product is slow (few input channels,
# large filters). A chunk of images is scattered into stride x stride phase planes: plane (c, a, b) of image n
# holds x_padded[n, c, a::stride, b::stride], Hq x Wq entries, and the images' planes of one (c, a, b) follow
# each other. Output (oh, ow) of image n then reads, at filter tap (c, i, j), the entry at
# (n * Hq + oh) * Wq + ow + offset(c, i, j): a run of consecutive outputs along a row reads consecutive entries
# at every tap. A tile (FB filters x VB such runs, of a vector's LANES outputs each) is a sum over the taps of a
# weight times a run, all in vector registers (GCC/Clang vector extensions, so the C compiler picks the
# instructions). A run may reach past the end of its output row: those lanes are computed and not stored.
# The filter gradient (direct_conv_filter_gradient) reads the same planes the same way: a tile there is FB filters
# x TB taps of vectors of lane-wise sums over all runs, of the run's upstream gradient times the tap's run.
# x86 CPUs get an AVX-512 or an AVX2+FMA kernel chosen at run time, others a 4-lane one; compilers other than
# GCC and Clang get none (direct_conv_kernel() is None) and fast_layers keeps im2col.
cdef extern from *:
    """
    #include <stddef.h>
    #include <string.h>
    #if defined(__GNUC__) || defined(__clang__)
    /* The register tile only stays in registers when its loops are unrolled completely: ask for it, whatever
       the optimisation level the extension is built with (-O2 builds ran 3x slower without). */
    #define KIT_UNROLL _Pragma("GCC unroll 16")
    #define KIT_DIRECT_TILES(NAME, TARGET, LANES, VB, FB)                                                         \\
    typedef float NAME##_vector __attribute__((vector_size(4 * LANES), aligned(4)));                              \\
    TARGET static void NAME(const float* planes, const ptrdiff_t* offsets, const float* weights,                  \\
                            ptrdiff_t taps, const float* bias, int filters, float* out, ptrdiff_t filter_step,    \\
                            const ptrdiff_t* sources, const ptrdiff_t* targets, const int* widths,                \\
                            ptrdiff_t tiles) {                                                                    \\
        for (ptrdiff_t tile = 0; tile < tiles; tile++) {                                                          \\
            const ptrdiff_t* source = sources + tile * VB;                                                        \\
            const ptrdiff_t* target = targets + tile * VB;                                                        \\
            const int* width = widths + tile * VB;                                                                \\
            NAME##_vector acc[FB][VB];                                                                            \\
            KIT_UNROLL for (int f = 0; f < FB; f++)                                                               \\
                KIT_UNROLL for (int v = 0; v < VB; v++) acc[f][v] = (NAME##_vector){0} + bias[f];                 \\
            for (ptrdiff_t k = 0; k < taps; k++) {                                                                \\
                const float* tap = planes + offsets[k];                                                           \\
                const float* tap_weights = weights + k * FB;                                                      \\
                NAME##_vector inputs[VB];                                                                         \\
                KIT_UNROLL for (int v = 0; v < VB; v++) inputs[v] = *(const NAME##_vector*)(tap + source[v]);     \\
                KIT_UNROLL for (int f = 0; f < FB; f++)                                                           \\
                    KIT_UNROLL for (int v = 0; v < VB; v++) acc[f][v] += tap_weights[f] * inputs[v];              \\
            }                                                                                                     \\
            KIT_UNROLL for (int f = 0; f < FB; f++) {                                                             \\
                if (f >= filters) break;                                                                          \\
                KIT_UNROLL for (int v = 0; v < VB; v++) {                                                         \\
                    float* destination = out + f * filter_step + target[v];                                       \\
                    if (width[v] == LANES) {                                                                      \\
                        *(NAME##_vector*)destination = acc[f][v];                                                 \\
                    } else {                                                                                      \\
                        float lanes[LANES];                                                                       \\
                        memcpy(lanes, &acc[f][v], sizeof lanes);                                                  \\
                        memcpy(destination, lanes, (size_t)width[v] * sizeof(float));                             \\
                    }                                                                                             \\
                }                                                                                                 \\
            }                                                                                                     \\
        }                                                                                                         \\
    }
    #if defined(__x86_64__) || defined(__i386__)
    #define KIT_X86 1
    KIT_DIRECT_TILES(kit_direct_avx512, __attribute__((target("avx512f"))), 16, 3, 8)
    KIT_DIRECT_TILES(kit_direct_avx512_narrow, __attribute__((target("avx512f"))), 16, 6, 4)
    KIT_DIRECT_TILES(kit_direct_avx2, __attribute__((target("avx2,fma"))), 8, 3, 4)
    #endif
    KIT_DIRECT_TILES(kit_direct_baseline, , 4, 3, 4)

    /* The filter gradient: FB filters x TB taps of lane-wise sums, each over every run of the chunk, of the run's
       upstream gradient (zero past the end of its row) times the tap's run of input entries. A run's upstream
       gradient of filter f is the vector at douts + targets[run] + f * filter_step. */
    #define KIT_FILTER_GRADIENT_TILES(NAME, TARGET, LANES, FB, TB)                                                \\
    typedef float NAME##_vector __attribute__((vector_size(4 * LANES), aligned(4)));                              \\
    TARGET static void NAME(const float* planes, const ptrdiff_t* offsets, ptrdiff_t tap_blocks,                  \\
                            const float* douts, ptrdiff_t filter_step, ptrdiff_t filter_blocks,                   \\
                            const ptrdiff_t* sources, const ptrdiff_t* targets, ptrdiff_t runs, float* sums) {    \\
        const ptrdiff_t taps = tap_blocks * TB;                                                                   \\
        for (ptrdiff_t tb = 0; tb < tap_blocks; tb++) {                                                           \\
            for (ptrdiff_t fb = 0; fb < filter_blocks; fb++) {                                                    \\
                const ptrdiff_t* tap_offsets = offsets + tb * TB;                                                 \\
                float* block_sums = sums + (fb * FB * taps + tb * TB) * LANES;                                    \\
                NAME##_vector acc[FB][TB];                                                                        \\
                KIT_UNROLL for (int f = 0; f < FB; f++)                                                           \\
                    KIT_UNROLL for (int t = 0; t < TB; t++)                                                       \\
                        acc[f][t] = *(const NAME##_vector*)(block_sums + (f * taps + t) * LANES);                 \\
                const float* block_douts = douts + fb * FB * filter_step;                                         \\
                for (ptrdiff_t r = 0; r < runs; r++) {                                                            \\
                    const float* source = planes + sources[r];                                                    \\
                    const float* d = block_douts + targets[r];                                                    \\
                    NAME##_vector upstream[FB];                                                                   \\
                    KIT_UNROLL for (int f = 0; f < FB; f++)                                                       \\
                        upstream[f] = *(const NAME##_vector*)(d + f * filter_step);                               \\
                    KIT_UNROLL for (int t = 0; t < TB; t++) {                                                     \\
                        NAME##_vector inputs = *(const NAME##_vector*)(source + tap_offsets[t]);                  \\
                        KIT_UNROLL for (int f = 0; f < FB; f++) acc[f][t] += upstream[f] * inputs;                \\
                    }                                                                                             \\
                }                                                                                                 \\
                KIT_UNROLL for (int f = 0; f < FB; f++)                                                           \\
                    KIT_UNROLL for (int t = 0; t < TB; t++)                                                       \\
                        *(NAME##_vector*)(block_sums + (f * taps + t) * LANES) = acc[f][t];                       \\
            }                                                                                                     \\
        }                                                                                                         \\
    }
    #ifdef KIT_X86
    KIT_FILTER_GRADIENT_TILES(kit_filter_gradient_avx512, __attribute__((target("avx512f"))), 16, 4, 6)
    KIT_FILTER_GRADIENT_TILES(kit_filter_gradient_avx2, __attribute__((target("avx2,fma"))), 8, 2, 6)
    #endif
    KIT_FILTER_GRADIENT_TILES(kit_filter_gradient_baseline, , 4, 2, 6)

    /* 2: AVX-512, 1: AVX2 + FMA, 0: the 4-lane kernel, -1: none. */
    static int kit_direct_level(void) {
    #ifdef KIT_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return 2;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    #endif
        return 0;
    }
    static void kit_direct_tiles(int level, const float* planes, const ptrdiff_t* offsets, const float* weights,
                                 ptrdiff_t taps, const float* bias, int filters, float* out, ptrdiff_t filter_step,
                                 const ptrdiff_t* sources, const ptrdiff_t* targets, const int* widths,
                                 ptrdiff_t tiles) {
    #ifdef KIT_X86
        if (level == 3) {
            kit_direct_avx512_narrow(planes, offsets, weights, taps, bias, filters, out, filter_step, sources,
                                     targets, widths, tiles);
            return;
        }
        if (level == 2) {
            kit_direct_avx512(planes, offsets, weights, taps, bias, filters, out, filter_step, sources, targets,
                              widths, tiles);
            return;
        }
        if (level == 1) {
            kit_direct_avx2(planes, offsets, weights, taps, bias, filters, out, filter_step, sources, targets,
                            widths, tiles);
            return;
        }
    #endif
        kit_direct_baseline(planes, offsets, weights, taps, bias, filters, out, filter_step, sources, targets,
                            widths, tiles);
    }
    static void kit_filter_gradient_tiles(int level, const float* planes, const ptrdiff_t* offsets,
                                          ptrdiff_t tap_blocks, const float* douts, ptrdiff_t filter_step,
                                          ptrdiff_t filter_blocks, const ptrdiff_t* sources,
                                          const ptrdiff_t* targets, ptrdiff_t runs, float* sums) {
    #ifdef KIT_X86
        if (level == 2) {
            kit_filter_gradient_avx512(planes, offsets, tap_blocks, douts, filter_step, filter_blocks, sources,
                                           targets, runs, sums);
            return;
        }
        if (level == 1) {
            kit_filter_gradient_avx2(planes, offsets, tap_blocks, douts, filter_step, filter_blocks, sources,
                                         targets, runs, sums);
            return;
        }
    #endif
        kit_filter_gradient_baseline(planes, offsets, tap_blocks, douts, filter_step, filter_blocks, sources,
                                         targets, runs, sums);
    }
    #else
    static int kit_direct_level(void) { return -1; }
    static void kit_filter_gradient_tiles(int level, const float* planes, const ptrdiff_t* offsets,
                                          ptrdiff_t tap_blocks, const float* douts, ptrdiff_t filter_step,
                                          ptrdiff_t filter_blocks, const ptrdiff_t* sources,
                                          const ptrdiff_t* targets, ptrdiff_t runs, float* sums) {}
    static void kit_direct_tiles(int level, const float* planes, const ptrdiff_t* offsets, const float* weights,
                                 ptrdiff_t taps, const float* bias, int filters, float* out, ptrdiff_t filter_step,
                                 const ptrdiff_t* sources, const ptrdiff_t* targets, const int* widths,
                                 ptrdiff_t tiles) {}
    #endif
    """
    int kit_direct_level() nogil
    void kit_direct_tiles(int level, const float* planes, const Py_ssize_t* offsets, const float* weights,
                          Py_ssize_t taps, const float* bias, int filters, float* out, Py_ssize_t filter_step,
                          const Py_ssize_t* sources, const Py_ssize_t* targets, const int* widths,
                          Py_ssize_t tiles) nogil
    void kit_filter_gradient_tiles(int level, const float* planes, const Py_ssize_t* offsets, Py_ssize_t tap_blocks,
                                   const float* douts, Py_ssize_t filter_step, Py_ssize_t filter_blocks,
                                   const Py_ssize_t* sources, const Py_ssize_t* targets, Py_ssize_t runs,
                                   float* sums) nogil

cdef int _DIRECT_LEVEL = kit_direct_level()
# (name, lanes per vector, vectors per tile, filters per tile) of each kernel level
cdef dict _DIRECT_KERNELS = {2: ("avx512", 16, 3, 8), 1: ("avx2", 8, 3, 4), 0: ("baseline", 4, 3, 4)}
# Levels whose tile has more filters than some layers (dx of the first layer: 3 channels) have a tile of 4 filters
# and twice the runs, for at most 4 filters: 3 of 8 filter slots would do useful work, 3 of 4 do.
cdef dict _DIRECT_NARROW = {2: (3, ("avx512", 16, 6, 4))}
# Floats of phase planes per chunk of images: a tile's reads (taps x VB runs) then come from L1/L2 cache.
cdef Py_ssize_t _DIRECT_CHUNK_FLOATS = 131072


def _kernel_level(kernel, str name):
    """The level (key of _DIRECT_KERNELS) of the named kernel, or of the machine's best for None."""
    if _DIRECT_LEVEL not in _DIRECT_KERNELS:
        raise RuntimeError(f"{name} needs the extension compiled by GCC or Clang")
    if kernel is None:
        return _DIRECT_LEVEL
    runnable = {_DIRECT_KERNELS[option][0]: option for option in range(_DIRECT_LEVEL + 1)}
    if kernel not in runnable:
        raise ValueError(f"kernel must be one of {sorted(runnable)} on this CPU; got {kernel!r}")
    return runnable[kernel]


def direct_conv_kernel():
    """Which kernel direct_conv_forward runs on this machine: "avx512", "avx2" or "baseline" (4 lanes), or None
    when the extension was compiled without one (by a compiler other than GCC or Clang)."""
    return _DIRECT_KERNELS[_DIRECT_LEVEL][0] if _DIRECT_LEVEL in _DIRECT_KERNELS else None


def direct_conv_lanes():
    """Floats per vector of the kernel direct_conv_forward and direct_conv_filter_gradient run on this machine
    (16, 8 or 4), or None when there is none (see direct_conv_kernel)."""
    return _DIRECT_KERNELS[_DIRECT_LEVEL][1] if _DIRECT_LEVEL in _DIRECT_KERNELS else None


cdef void _direct_planes(const float[:, :, :, ::1] x, Py_ssize_t first, Py_ssize_t count, float* planes,
                         Py_ssize_t group_step, Py_ssize_t pad, Py_ssize_t s, Py_ssize_t Hq,
                         Py_ssize_t Wq) noexcept nogil:
    """Copies images first .. first+count-1 into their phase planes; padding entries are left as they are."""
    cdef Py_ssize_t C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t n, c, i, j, phase, column, columns, shift, row_phase, row_index
    cdef const float* source
    cdef float* target
    # Divisions by the stride are hoisted out of the loops (they took most of the time on small layers): per
    # column phase, its first input column j, where it lands and how many columns it has; row by row, the row's
    # phase and index follow by counting.
    for phase in range(s):
        j = (phase - pad % s + s) % s  # the first input column in this column phase
        shift, columns = (j + pad) // s, (W - j + s - 1) // s
        for n in range(count):
            for c in range(C):
                row_phase, row_index = pad % s, pad // s
                for i in range(H):
                    source = &x[first + n, c, i, 0]
                    target = planes + (c * s * s + row_phase * s + phase) * group_step \
                        + (n * Hq + row_index) * Wq + shift
                    # Strides 1 and 2 (nearly every layer) get loops with a constant step, which the C compiler
                    # turns into vector copies; the general loop copies one float at a time.
                    if s == 1:
                        memcpy(target, source, W * sizeof(float))
                    elif s == 2:
                        for column in range(columns):
                            target[column] = source[j + 2 * column]
                    else:
                        for column in range(columns):
                            target[column] = source[j + s * column]
                    row_phase += 1
                    if row_phase == s:
                        row_phase, row_index = 0, row_index + 1


cdef void _tap_offsets(Py_ssize_t C, Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t s, Py_ssize_t group_step,
                       Py_ssize_t Wq, Py_ssize_t* offsets) noexcept:
    """offsets[(c * HH + i) * WW + j]: where filter tap (c, i, j) reads in the phase planes, from a run's source."""
    cdef Py_ssize_t c, i, j
    for c in range(C):
        for i in range(HH):
            for j in range(WW):
                offsets[(c * HH + i) * WW + j] = (c * s * s + (i % s) * s + j % s) * group_step \
                    + (i // s) * Wq + j // s


cdef Py_ssize_t _direct_runs(Py_ssize_t count, Py_ssize_t F, Py_ssize_t H_out, Py_ssize_t W_out, Py_ssize_t Hq,
                             Py_ssize_t Wq, Py_ssize_t lanes, Py_ssize_t per_tile, Py_ssize_t* sources,
                             Py_ssize_t* targets, int* widths) noexcept nogil:
    """Fills the runs of `count` images' outputs, row by row, and repeats the last run to fill the last tile;
    returns the number of tiles."""
    cdef Py_ssize_t n, oh, ow, runs = 0
    for n in range(count):
        for oh in range(H_out):
            ow = 0
            while ow < W_out:
                sources[runs] = (n * Hq + oh) * Wq + ow
                targets[runs] = (n * F * H_out + oh) * W_out + ow
                widths[runs] = <int>min(lanes, W_out - ow)
                runs += 1
                ow += lanes
    cdef Py_ssize_t tiles = (runs + per_tile - 1) // per_tile
    while runs < tiles * per_tile:
        sources[runs], targets[runs], widths[runs] = sources[runs - 1], targets[runs - 1], widths[runs - 1]
        runs += 1
    return tiles


def direct_conv_forward(const float[:, :, :, ::1] x, const float[:, :, :, ::1] w, const float[::1] b,
                        Py_ssize_t stride, Py_ssize_t pad, *, out=None, kernel=None):
    """Forward pass of a convolution, computed directly in float32 vector registers (compiled).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32
    w : ndarray, shape (F, C, HH, WW), C-contiguous float32
    b : ndarray, shape (F,), float32
    stride, pad : int
        Stride >= 1 and symmetric zero padding >= 0.
    out : ndarray, optional, keyword-only
        C-contiguous float32 array of the result's shape to write into (and return).
    kernel : str, optional, keyword-only
        "avx512", "avx2" or "baseline": a kernel other than the machine's best, if this CPU can run it (for
        tests; all give the same results up to rounding).

    Returns
    -------
    out : ndarray, shape (N, F, H', W'), float32, with H' = 1 + (H + 2 * pad - HH) // stride and
        W' = 1 + (W + 2 * pad - WW) // stride (rows and columns no window reaches are ignored).

    Raises
    ------
    ValueError
        Channel or bias count mismatch, stride < 1, pad < 0, a filter larger than the padded input, or a
        kernel this CPU cannot run.
    RuntimeError
        If the extension was compiled without a kernel for it (see direct_conv_kernel).
    """
    cdef int level = _kernel_level(kernel, "direct_conv_forward")
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = w.shape[0], HH = w.shape[2], WW = w.shape[3], s = stride
    if w.shape[1] != C or b.shape[0] != F:
        raise ValueError(f"x has {C} channels and w expects {w.shape[1]}; b has {b.shape[0]} entries for "
                         f"{F} filters")
    cdef Py_ssize_t H_out = _output_size(H, HH, pad, stride, "height")
    cdef Py_ssize_t W_out = _output_size(W, WW, pad, stride, "width")
    out_array = _output_array(out, (N, F, H_out, W_out), np.float32, "direct_conv_forward")
    if out_array.size == 0:
        return out_array
    _, lanes_object, per_tile_object, filters_object = _DIRECT_KERNELS[level]
    if level in _DIRECT_NARROW and F <= _DIRECT_NARROW[level][1][3]:
        level, (_, lanes_object, per_tile_object, filters_object) = _DIRECT_NARROW[level]
    cdef Py_ssize_t lanes = lanes_object, per_tile = per_tile_object, FB = filters_object
    cdef Py_ssize_t Hq = (H + 2 * pad + s - 1) // s, Wq = (W + 2 * pad + s - 1) // s, plane = Hq * Wq
    cdef Py_ssize_t taps = C * HH * WW, blocks = (F + FB - 1) // FB
    cdef Py_ssize_t chunk = max(1, min(N, _DIRECT_CHUNK_FLOATS // (C * s * s * plane)))
    cdef Py_ssize_t group_step = chunk * plane, runs = chunk * H_out * ((W_out + lanes - 1) // lanes) + per_tile
    # A run at the end of a row reads up to a vector past it, beyond the last plane at the very end.
    planes_array = np.zeros(C * s * s * group_step + lanes, dtype=np.float32)
    offsets_array = np.empty(taps, dtype=np.intp)
    block_weights = np.zeros((blocks * FB, taps), dtype=np.float32)  # filters padded to whole blocks
    block_weights[:F] = np.asarray(w).reshape(F, taps)
    # (blocks, taps, FB): a tap's weights for a block of filters side by side
    weights_array = np.ascontiguousarray(block_weights.reshape(blocks, FB, taps).transpose(0, 2, 1))
    bias_array = np.zeros(blocks * FB, dtype=np.float32)
    bias_array[:F] = b
    sources_array, targets_array = np.empty(runs, dtype=np.intp), np.empty(runs, dtype=np.intp)
    widths_array = np.empty(runs, dtype=np.intc)
    cdef float[::1] planes = planes_array, bias = bias_array
    cdef Py_ssize_t[::1] offsets = offsets_array, sources = sources_array, targets = targets_array
    cdef int[::1] widths = widths_array
    cdef float[:, :, ::1] weights = weights_array
    cdef float[:, :, :, ::1] result = out_array
    cdef float* out_start = &result[0, 0, 0, 0]
    cdef Py_ssize_t block, count, tiles = 0, first = 0, built_for = 0
    _tap_offsets(C, HH, WW, s, group_step, Wq, &offsets[0])
    with nogil:
        while first < N:
            count = min(chunk, N - first)
            if count != built_for:  # the first chunk, and a smaller last one
                tiles = _direct_runs(count, F, H_out, W_out, Hq, Wq, lanes, per_tile, &sources[0], &targets[0],
                                     &widths[0])
                built_for = count
            _direct_planes(x, first, count, &planes[0], group_step, pad, s, Hq, Wq)
            for block in range(blocks):
                kit_direct_tiles(level, &planes[0], &offsets[0], &weights[block, 0, 0], taps,
                                 &bias[block * FB], <int>min(FB, F - block * FB),
                                 out_start + (first * F + block * FB) * H_out * W_out, H_out * W_out,
                                 &sources[0], &targets[0], &widths[0], tiles)
            first += count
    return out_array


# (filters per tile, taps per tile) of each level's filter-gradient kernel; its lanes are _DIRECT_KERNELS'.
cdef dict _FILTER_GRADIENT_TILES = {2: (4, 6), 1: (2, 6), 0: (2, 6)}


cdef void _pack_upstream(const float* dout, Py_ssize_t F, Py_ssize_t Q, Py_ssize_t runs, const Py_ssize_t* targets,
                         const int* widths, Py_ssize_t lanes, Py_ssize_t run_step, float* douts) noexcept nogil:
    """Copies each run's upstream gradient, for every filter, into douts[run, filter, :width]; the lanes past a
    run's width stay as they are (zero)."""
    cdef Py_ssize_t r, f
    for r in range(runs):
        for f in range(F):
            memcpy(douts + r * run_step + f * lanes, dout + f * Q + targets[r], widths[r] * sizeof(float))


def direct_conv_filter_gradient(const float[:, :, :, ::1] x, const float[:, :, :, ::1] dout,
                                Py_ssize_t field_height, Py_ssize_t field_width, Py_ssize_t stride, Py_ssize_t pad,
                                *, kernel=None):
    """Gradient of a convolution's loss with respect to its filters, computed directly in float32 vector
    registers (compiled): dw[f, c, i, j] = sum over n, oh, ow of dout[n, f, oh, ow] * x_padded[n, c,
    oh * stride + i, ow * stride + j]. The inputs take direct_conv_forward's phase planes, so each tap of a run
    of outputs along a row reads consecutive entries; lanes past the end of a row have zero upstream gradient.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), C-contiguous float32
        The layer's input.
    dout : ndarray, shape (N, F, H', W'), C-contiguous float32
        Upstream gradient, with H' = 1 + (H + 2 * pad - HH) // stride and W' = 1 + (W + 2 * pad - WW) // stride.
    field_height, field_width : int
        The filters' HH and WW.
    stride, pad : int
        Stride >= 1 and symmetric zero padding >= 0.
    kernel : str, optional, keyword-only
        As for direct_conv_forward.

    Returns
    -------
    dw : ndarray, shape (F, C, HH, WW), float32.

    Raises
    ------
    ValueError
        A batch or output-size mismatch between x and dout, stride < 1, pad < 0, a filter larger than the
        padded input, or a kernel this CPU cannot run.
    RuntimeError
        If the extension was compiled without the kernels (see direct_conv_kernel).
    """
    cdef int level = _kernel_level(kernel, "direct_conv_filter_gradient")
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = dout.shape[1], HH = field_height, WW = field_width, s = stride
    cdef Py_ssize_t H_out = _output_size(H, HH, pad, stride, "height")
    cdef Py_ssize_t W_out = _output_size(W, WW, pad, stride, "width")
    if (dout.shape[0], dout.shape[2], dout.shape[3]) != (N, H_out, W_out):
        raise ValueError(f"dout must have shape {(N, F, H_out, W_out)} for x {tuple(x.shape)[:4]}, a {HH}x{WW} "
                         f"filter, stride {stride} and pad {pad}; got {tuple(dout.shape)[:4]}")
    if N == 0 or F == 0:
        return np.zeros((F, C, HH, WW), dtype=np.float32)
    cdef Py_ssize_t lanes = _DIRECT_KERNELS[level][1], FB, TB
    FB, TB = _FILTER_GRADIENT_TILES[level]
    cdef Py_ssize_t taps = C * HH * WW, tap_blocks = (taps + TB - 1) // TB, filter_blocks = (F + FB - 1) // FB
    sums_array = np.zeros((filter_blocks * FB, tap_blocks * TB, lanes), dtype=np.float32)
    cdef Py_ssize_t Hq = (H + 2 * pad + s - 1) // s, Wq = (W + 2 * pad + s - 1) // s, plane = Hq * Wq
    cdef Py_ssize_t chunk = max(1, min(N, _DIRECT_CHUNK_FLOATS // (C * s * s * plane)))
    cdef Py_ssize_t group_step = chunk * plane, runs_per_chunk = chunk * H_out * ((W_out + lanes - 1) // lanes)
    cdef Py_ssize_t run_step = filter_blocks * FB * lanes, Q = H_out * W_out
    # Runs read dout in place when they all fill whole vectors and the filters whole blocks; otherwise each chunk's
    # runs are copied, zero past the end of their rows and for the filters that fill the last block.
    cdef bint packed = W_out % lanes != 0 or F % FB != 0
    planes_array = np.zeros(C * s * s * group_step + lanes, dtype=np.float32)  # slack: runs read a vector
    offsets_array = np.empty(tap_blocks * TB, dtype=np.intp)
    douts_array = np.zeros((runs_per_chunk if packed else 1, run_step), dtype=np.float32)
    sources_array, targets_array = np.empty(runs_per_chunk, dtype=np.intp), np.empty(runs_per_chunk, dtype=np.intp)
    packed_targets_array = np.arange(runs_per_chunk, dtype=np.intp) * run_step
    widths_array = np.empty(runs_per_chunk, dtype=np.intc)
    cdef float[::1] planes = planes_array
    cdef float[:, ::1] douts = douts_array
    cdef float[:, :, ::1] sums = sums_array
    cdef Py_ssize_t[::1] offsets = offsets_array, sources = sources_array, targets = targets_array
    cdef Py_ssize_t[::1] packed_targets = packed_targets_array
    cdef int[::1] widths = widths_array
    cdef Py_ssize_t i, count, runs = 0, first = 0, built_for = 0
    _tap_offsets(C, HH, WW, s, group_step, Wq, &offsets[0])
    for i in range(taps, tap_blocks * TB):
        offsets[i] = 0  # taps that fill the last block: computed and dropped
    with nogil:
        while first < N:
            count = min(chunk, N - first)
            if count != built_for:  # the first chunk, and a smaller last one
                runs = _direct_runs(count, F, H_out, W_out, Hq, Wq, lanes, 1, &sources[0], &targets[0], &widths[0])
                built_for = count
            _direct_planes(x, first, count, &planes[0], group_step, pad, s, Hq, Wq)
            if packed:
                _pack_upstream(&dout[first, 0, 0, 0], F, Q, runs, &targets[0], &widths[0], lanes, run_step,
                               &douts[0, 0])
                kit_filter_gradient_tiles(level, &planes[0], &offsets[0], tap_blocks, &douts[0, 0], lanes,
                                          filter_blocks, &sources[0], &packed_targets[0], runs, &sums[0, 0, 0])
            else:
                kit_filter_gradient_tiles(level, &planes[0], &offsets[0], tap_blocks, &dout[first, 0, 0, 0], Q,
                                          filter_blocks, &sources[0], &targets[0], runs, &sums[0, 0, 0])
            first += count
    # One matrix-vector product adds up the lanes: ten times faster than NumPy's reduction of short rows.
    totals = sums_array @ np.ones(lanes, dtype=np.float32)  # (filters padded, taps padded)
    return np.ascontiguousarray(totals[:F, :taps]).reshape(F, C, HH, WW)
