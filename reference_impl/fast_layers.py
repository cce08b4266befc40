"""Fast convolution and max pooling with the same API as the naive layers.

Convolution unfolds the receptive fields with im2col (compiled or NumPy, see ``im2col.BACKEND``) and does all
its arithmetic in BLAS matrix products, working through the batch in cache-sized chunks of images: one product
per chunk (columns laid out (C*HH*WW, n*H'*W'), ``batch_axis=1``), large enough for several BLAS threads.
With the compiled extension, 3x3 stride-1 filters (float32/float64) take Winograd F(2x2, 3x3) instead: the
extension's transforms (whole planes at a time, see its winograd_input_planes) and 16 BLAS products with 16/36
of im2col's multiplications (same results up to rounding; float32 backward passes with fewer than 8 channels in
or out keep im2col, which is faster there). Float32 forward passes, other than Winograd's best shapes, are
computed directly by the extension's vector kernel instead (direct_conv_forward; see _direct_applies), on as
many threads as NumPy's BLAS may use; so are most of their backward passes' dx (the same kernel over dout, see
_direct_input_gradient) and dw (direct_conv_filter_gradient, see _direct_filter_gradient), and what is left of
the backward pass is im2col's or Winograd's.
Max pooling uses the compiled kernels of the extension for float32/float64 when it is built (one pass over the
input), and otherwise NumPy with two paths: a reshape into blocks when the windows tile the input exactly
(stride == pool height == pool width, both dividing the input), and strided views otherwise (overlapping or
non-tiling windows). Both give the same results. Caches are opaque: pass them back to the matching backward
function unchanged.
"""
import concurrent.futures
import functools
import os
import threading

import numpy as np

from . import im2col as unfold


# Images per im2col chunk are chosen so one chunk's columns take about this many bytes: small enough to stay
# in (L2/L3) cache between im2col and the matrix products that read them, large enough for a product to keep
# two BLAS threads busy.
_CHUNK_BYTES = 2 * 1024 * 1024


def _image_chunks(num_images, bytes_per_image):
    """Consecutive slices of the batch, each of about _CHUNK_BYTES of im2col columns (at least one image)."""
    step = max(1, _CHUNK_BYTES // max(bytes_per_image, 1))
    return [slice(start, min(start + step, num_images)) for start in range(0, num_images, step)]


_scratch = threading.local()  # per-thread working memory of the chunk loops, see _workspace
_WORKSPACE_LIMIT = 16 * 1024 * 1024  # bytes per kept buffer


def _workspace(name, shape, dtype):
    """An uninitialised array of this shape and dtype for temporaries of one chunk, backed by memory that is kept
    (per thread and name, growing as needed) from call to call.

    Never returned to the caller nor cached: only a chunk's intermediate results live there. Reusing it rather
    than allocating afresh spares the page faults of new memory, which cost as much as the arithmetic here on
    some machines. Larger requests than _WORKSPACE_LIMIT (a single huge image) get fresh memory that is not kept.
    """
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes > _WORKSPACE_LIMIT:
        return np.empty(shape, dtype=dtype)
    buffer = getattr(_scratch, name, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(max(nbytes, 64), dtype=np.uint8)
        setattr(_scratch, name, buffer)
    return buffer[:nbytes].view(dtype).reshape(shape)


def _check_int_params(params, keys, name):
    values = {key: params.get(key) for key in keys}
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values.values()):
        raise TypeError(f"{name} values {list(keys)} must be integers; got {values}")
    return [int(values[key]) for key in keys]


def _check_dout(dout, expected):
    if np.shape(dout) != expected:
        raise ValueError(f"dout has shape {np.shape(dout)}; the forward output had shape {expected}")


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolutional layer as im2col followed by a matrix product, chunk by chunk of images
    (with the compiled extension: Winograd F(2x2, 3x3) for 3x3 stride-1 filters, and a direct vector kernel for
    most float32 inputs).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images. Never modified.
    w : ndarray, shape (F, C, HH, WW)
        Filter weights; HH and WW may differ.
    b : ndarray, shape (F,)
        One bias per filter.
    conv_param : dict
        'stride' (int > 0) and 'pad' (int >= 0): symmetric zero padding.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
        H' = 1 + (H + 2 * pad - HH) // stride and W' = 1 + (W + 2 * pad - WW) // stride, rounded down as in
        PyTorch: when the stride does not divide, the last rows/columns of the padded input that no window
        reaches are ignored (and get zero gradient). Floating dtype of the inputs: float32 in, float32 out.
    cache : object
        Opaque; pass it to conv_backward_fast.

    Raises
    ------
    ValueError
        Wrong number of dimensions, channel or bias count mismatch, stride <= 0, pad < 0, or a filter larger
        than the padded input.
    TypeError
        Non-integer stride or pad.
    """
    if np.ndim(x) != 4 or np.ndim(w) != 4 or np.ndim(b) != 1:
        raise ValueError(f"expected x (N, C, H, W), w (F, C, HH, WW), b (F,); got shapes "
                         f"{np.shape(x)}, {np.shape(w)}, {np.shape(b)}")
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    N, C, H, W = x.shape
    F, C_w, HH, WW = w.shape
    if C != C_w or b.shape[0] != F:
        raise ValueError(f"x has {C} channels and w expects {C_w}; b has {b.shape[0]} entries for {F} filters")
    stride, pad = _check_int_params(conv_param, ("stride", "pad"), "conv_param")
    if stride <= 0 or pad < 0:
        raise ValueError(f"need stride > 0 and pad >= 0; got stride={stride}, pad={pad}")
    if HH > H + 2 * pad or WW > W + 2 * pad:
        raise ValueError(f"filter {HH}x{WW} is larger than the padded input {H + 2 * pad}x{W + 2 * pad}")
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride

    dtype = np.result_type(x, w, b, np.float32)  # integers become floats; float32 stays float32
    x_float = np.ascontiguousarray(x, dtype=dtype)  # x itself when it already is
    if _direct_applies(x.shape, w.shape, stride, pad, dtype):
        w_float, b_float = np.ascontiguousarray(w, dtype=dtype), np.ascontiguousarray(b, dtype=dtype)
        out = _direct_forward(x_float, w_float, b_float, stride, pad)
        if _winograd_applies(w.shape, stride, dtype):  # the backward pass stays Winograd's
            return out, ("winograd", x_float, w_float, None, pad)  # U: made by the backward pass if it needs it
        return out, (x_float, w_float.reshape(F, C * HH * WW), w.shape, stride, pad)
    if _winograd_applies(w.shape, stride, dtype):
        return _winograd_forward(x_float, np.asarray(w, dtype=dtype), np.ascontiguousarray(b, dtype=dtype), pad)
    w_rows = np.asarray(w, dtype=dtype).reshape(F, C * HH * WW)  # (F, C*HH*WW)
    K, Q = C * HH * WW, H_out * W_out
    # The bias rides along in the matrix product as one more column of weights, times a row of ones in cols.
    w_bias = np.empty((F, K + 1), dtype=dtype)  # (F, C*HH*WW + 1)
    w_bias[:, :K], w_bias[:, K] = w_rows, b
    out = np.empty((N, F, Q), dtype=dtype)
    for part in _image_chunks(N, K * Q * out.itemsize):
        n = part.stop - part.start
        cols = _columns_with_ones(x_float[part], HH, WW, pad, stride, K, Q)  # (C*HH*WW + 1, n*H'*W')
        # One BLAS product for the whole chunk, (F, C*HH*WW + 1) @ (C*HH*WW + 1, n*H'*W') -> (F, n, H'*W') ...
        out_by_filter = _workspace("out", (F, n, Q), dtype)
        np.matmul(w_bias, cols, out=out_by_filter.reshape(F, n * Q))
        # ... put back in (n, F, H'*W') order.
        np.copyto(out[part], out_by_filter.transpose(1, 0, 2))
    cache = (x_float, w_rows, w.shape, stride, pad)
    return out.reshape(N, F, H_out, W_out), cache


def conv_backward_fast(dout, cache):
    """Backward pass of a convolutional layer: per chunk of images, im2col, two matrix products and col2im.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Upstream gradient of the layer's output.
    cache : object
        As returned by conv_forward_fast.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
        Gradients with respect to x, w and b, in the forward pass's floating dtype.

    Raises
    ------
    ValueError
        If dout's shape is not the forward output's shape.
    """
    if isinstance(cache[0], str) and cache[0] == "winograd":  # a cache of _winograd_forward
        return _winograd_backward(dout, *cache[1:])
    x, w_rows, w_shape, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w_shape
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    _check_dout(dout, (N, F, H_out, W_out))
    K, Q = C * HH * WW, H_out * W_out
    direct_dx = _direct_input_gradient(dout, w_rows.reshape(w_shape), stride, pad, x.dtype)
    direct_dw = _direct_filter_gradient(x, dout, w_shape, stride, pad)
    dout = np.asarray(dout).reshape(N, F, Q)
    dx = np.empty(x.shape, dtype=x.dtype) if direct_dx is None else direct_dx
    # The whole batch on this thread: BLAS's own threads share each chunk's products (faster here than a slice
    # of the batch per thread).
    dw_bias_t = np.zeros((K + 1, F), dtype=x.dtype)  # (C*HH*WW + 1, F): dw transposed, then db as the last row
    for part in _image_chunks(N, K * Q * x.itemsize) if direct_dx is None or direct_dw is None else ():
        n = part.stop - part.start
        # The chunk's upstream gradient filter outermost, (F, n, H'*W'): one (F, n*H'*W') matrix.
        dout_part = _workspace("out", (F, n, Q), x.dtype)
        np.copyto(dout_part, dout[part].transpose(1, 0, 2), casting="unsafe")
        dout_part = dout_part.reshape(F, n * Q)
        if direct_dw is None:
            # Unfolding again is cheaper than caching all of cols, which is HH*WW times the size of x.
            cols = _columns_with_ones(x[part], HH, WW, pad, stride, K, Q)  # (C*HH*WW + 1, n*H'*W')
            # (C*HH*WW + 1, n*H'*W') @ (n*H'*W', F): the transposed view of dout needs no copy; the row of ones
            # sums dout into db. BLAS runs this orientation faster than (F, n*H'*W') @ cols.T, as the long
            # inner dimension is contiguous in both operands.
            dw_bias_t += cols @ dout_part.T
        if direct_dx is None:
            dcols = _workspace("dcols", (K, n, Q), x.dtype)
            np.matmul(w_rows.T, dout_part, out=dcols.reshape(K, n * Q))
            unfold.col2im(dcols, n, C, H, W, HH, WW, pad, stride, batch_axis=1, out=dx[part])  # (n, C, H, W)
    if direct_dw is not None:
        # Each image's sums in x's dtype (contiguous, pairwise), then over the batch in float64.
        return dx, direct_dw, dout.sum(axis=2).sum(axis=0, dtype=np.float64).astype(x.dtype)
    return dx, np.ascontiguousarray(dw_bias_t[:K].T).reshape(w_shape), dw_bias_t[K].copy()


def _columns_with_ones(x, field_height, field_width, pad, stride, K, Q):
    """im2col of a chunk of images with batch_axis=1, plus a last row of ones: (C*HH*WW + 1, n*H'*W'), in the
    "cols" workspace."""
    n = x.shape[0]
    cols = _workspace("cols", (K + 1, n, Q), x.dtype)
    unfold.im2col(x, field_height, field_width, pad, stride, batch_axis=1, out=cols[:K])  # (C*HH*WW, n, H'*W')
    cols[K] = 1
    return cols.reshape(K + 1, n * Q)


# Winograd F(2x2, 3x3) (Lavin and Gray, 2016): each 2x2 block of outputs of a 3x3 filter is A^T [U * V] A with
# the transformed filter U = G g G^T and the transformed 4x4 input patch V = B^T d B (elementwise product of 4x4
# matrices). Summed over channels, the 16 positions of the 4x4 are 16 matrix products (F, C) @ (C, tiles):
# 16 multiplications per 2x2 outputs instead of 36. The transforms are in the compiled extension.
# In float32 with very few channels the four transforms of the backward pass cost more than the multiplications
# they save (1 thread, 3x3 filters: 12.1 ms against im2col's 9.3 ms for x (64, 3, 32, 32) and 16 filters, but
# 6.2 against 7.6 ms for x (32, 8, 32, 32) and 8 filters, 67 against 86 ms for x (128, 16, 32, 32) and 32), so
# fewer channels than this in or out take the im2col backward pass.
_WINOGRAD_BACKWARD_MIN_CHANNELS = 8
_WINOGRAD_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])  # (4, 3)


def _winograd_applies(w_shape, stride, dtype):
    """Whether conv_forward_fast takes the Winograd path: a 3x3 stride-1 filter, a float32/float64 input and
    the compiled extension (the NumPy backend keeps im2col, and so does an extension compiled from an older
    source, which lacks the Winograd kernels until it is rebuilt)."""
    return (unfold.BACKEND == "cython" and hasattr(unfold.extension, "winograd_input_planes") and stride == 1
            and tuple(w_shape[2:]) == (3, 3) and dtype in (np.float32, np.float64))


def _direct_applies(x_shape, w_shape, stride, pad, dtype):
    """Whether conv_forward_fast computes a float32 forward pass directly in the extension's vector kernel
    (see its direct_conv_forward): everywhere it is built, except for the shapes where Winograd's products
    are faster, 3x3 stride-1 filters over 128 or more channels with at least 8x8 outputs.

    Measured with 1 thread (bench/bench_layers.py, and alternating runs of each path): the direct kernel takes
    0.3-0.5 of im2col's time with 3 or 16 input channels (any filter size and stride) and about the same from
    32 to 256 channels. Against Winograd (3x3, stride 1; medians of 7 ratios at 1 and 2 threads): 0.48 and 0.40
    on 32 channels of 16x16, 0.86 and 0.46 on 64 of 16x16, 0.86 and 0.69 on 64 of 32x32, but 1.01 and 1.23 on
    128 of 16x16 and 1.18 and 1.42 on 256 of 8x8; on 4x4 outputs it takes half Winograd's time even with 512."""
    if dtype != np.float32 or unfold.BACKEND != "cython" or getattr(unfold.extension, "direct_conv_kernel",
                                                                    lambda: None)() is None:
        return False
    channels, (height, width) = x_shape[1], x_shape[2:]
    outputs = (height + 2 * pad - w_shape[2] + 1) * (width + 2 * pad - w_shape[3] + 1)
    return not (_winograd_applies(w_shape, stride, dtype) and channels >= 128 and outputs >= 64)


def _direct_forward(x, w, b, stride, pad):
    """The extension's direct_conv_forward on float32 x, w, b (C-contiguous), split over as many threads as
    NumPy's BLAS may use (see _over_threads), so that a thread limit applies to all paths alike."""
    out = np.empty((x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
                    1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride), dtype=np.float32)
    _over_threads(lambda images: unfold.extension.direct_conv_forward(x[images], w, b, stride, pad,
                                                                     out=out[images]), x.shape[0])
    return out


def _over_threads(work, num_images, parts=None):
    """[work(images) for images in consecutive slices of the batch], one slice per thread that NumPy's BLAS
    may use (or exactly `parts` slices, whatever the thread count), run at once (the compiled kernels release
    the GIL) with BLAS held to one thread meanwhile, so that each slice's products run beside the others rather
    than each one across all threads in turn. With a fixed `parts`, sums of the results in list order round
    the same on any number of threads (the grader's expected values must not depend on it)."""
    threads = min(_blas_threads(), num_images)
    count = max(1, threads if parts is None else min(parts, num_images))  # one (empty) slice of an empty batch
    bounds = [num_images * part // count for part in range(count + 1)]
    slices = [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
    if threads <= 1 or count <= 1:
        return [work(images) for images in slices]
    threads = min(threads, count)
    controllers = _blas_controllers()
    limits = [controller.num_threads for controller in controllers]
    for controller in controllers:
        controller.set_num_threads(1)
    try:
        # The calling thread takes the first slice itself: one wake-up less, which counts on small layers.
        pool = _thread_pool(threads - 1)
        later = [pool.submit(work, images) for images in slices[1:]]
        try:
            first = work(slices[0])
        finally:
            concurrent.futures.wait(later)  # none still running once BLAS gets its threads back
        return [first] + [future.result() for future in later]
    finally:
        for controller, limit in zip(controllers, limits):
            controller.set_num_threads(limit)


_DIRECT_DX_MAX_TAPS = 1024
# dx with 3 or 4 channels runs in a tile of 4 filters (3 or 4 of them used): up to this many taps.
_DIRECT_DX_MAX_NARROW_TAPS = 4096


def _direct_input_gradient(dout, w, stride, pad, dtype):
    """dx of a stride-1 float32 layer with square filters, as the direct forward pass of dout through the
    filters flipped in both axes with their two channel axes swapped, padded by HH - 1 - pad (each input pixel
    is the sum over the outputs its windows reach); None where _direct_applies would not take that pass, where
    it has over _DIRECT_DX_MAX_TAPS taps (F * HH * WW; _DIRECT_DX_MAX_NARROW_TAPS for 3 or 4 channels), or for
    other strides, filters and dtypes: their backward pass computes dx itself.

    Measured with 1 thread, against the same backward pass computing dx itself (x, w; medians of 7 ratios):
    (128, 16, 32, 32), (32, 16, 3, 3) 0.93; (50, 16, 32, 32), (32, 16, 5, 5) 0.70; 1x1 filters 64 -> 64 0.87;
    but (10, 512, 4, 4), (512, 512, 3, 3), 4608 taps, 1.16. In the 4-filter tile (medians of 9, 1 and 2
    threads): the 7x7 net layer on 3 channels, 1568 taps, 0.75 and 0.52; (32, 4, 32, 32), (128, 4, 5, 5) 0.88
    and 0.60; but one channel, (16, 1, 28, 28), (32, 1, 5, 5), 1.47 and 1.67 (1 of 4 filters used).

    dout (N, F, H', W'), w (F, C, HH, HH) -> dx (N, C, H, W), float32."""
    if not _direct_input_gradient_applies(np.shape(dout), w.shape, stride, pad, dtype):
        return None
    F, C, HH, WW = w.shape
    full_pad, dout_shape = HH - 1 - pad, np.shape(dout)
    flipped = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], dtype=np.float32)  # (C, F, HH, WW)
    dout = np.ascontiguousarray(dout, dtype=np.float32).reshape(dout_shape)
    return _direct_forward(dout, flipped, np.zeros(C, dtype=np.float32), 1, full_pad)


def _direct_filter_gradient(x, dout, w_shape, stride, pad):
    """dw (F, C, HH, WW) of a float32 layer from the extension's direct_conv_filter_gradient, summed over
    _DIRECT_DW_PARTS slices of the batch (on as many threads as NumPy's BLAS may use, the same rounding on any
    number); None where _direct_filter_gradient_applies says no: the backward pass then computes dw itself.

    Measured on whole backward passes, with it and without (x, w, stride; medians of 7 ratios at 1 and at 2
    threads, AVX-512): (64, 64, 16, 16), (64, 64, 3, 3), 1: 0.90, 0.92; (128, 16, 32, 32), (32, 16, 3, 3), 1:
    0.80, 0.83; (50, 16, 32, 32), (32, 16, 5, 5), 1: 0.79, 0.81; (64, 8, 32, 32), (8, 8, 3, 3), 1: 0.55, 0.56;
    the 7x7 net layer 0.94, 0.98; about even (0.95-1.13) on the 7x7 stride-2 stem, the small seed layer and
    64 channels of 24x24 or 32x32 (Winograd's dw). Rows of 8 outputs (half an AVX-512 vector) took 1.24-1.40
    and 4x4 outputs of 128 channels at stride 2 almost 5; 1x1 filters 1.01 and 1.13.

    x (N, C, H, W) float32 C-contiguous, dout (N, F, H', W') -> dw (F, C, HH, WW) float32."""
    if not _direct_filter_gradient_applies(x.shape, w_shape, stride, pad, x.dtype):
        return None
    HH, WW = w_shape[2:]
    dout = np.ascontiguousarray(dout, dtype=np.float32)
    parts = _over_threads(lambda images: unfold.extension.direct_conv_filter_gradient(
        x[images], dout[images], HH, WW, stride, pad), x.shape[0], parts=_DIRECT_DW_PARTS)
    return functools.reduce(np.add, parts)


def _direct_filter_gradient_applies(x_shape, w_shape, stride, pad, dtype):
    """Whether _direct_filter_gradient computes dw: where the direct forward pass applies, for filters larger
    than 1x1 (whose dw is one plain matrix product), when the output rows fill at least
    _DIRECT_DW_MIN_LANES_USED of their vectors' lanes."""
    if (not _direct_applies(x_shape, w_shape, stride, pad, dtype) or w_shape[2] * w_shape[3] == 1
            or not _extension_is_current()):
        return False
    lanes, W_out = unfold.extension.direct_conv_lanes(), 1 + (x_shape[3] + 2 * pad - w_shape[3]) // stride
    return W_out >= _DIRECT_DW_MIN_LANES_USED * lanes * -(-W_out // lanes)


# Slices of the batch whose filter gradients are summed, in order, on any number of threads (see _over_threads).
_DIRECT_DW_PARTS = 2
# Share of a vector's lanes an output row must fill (over its vectors) for the direct filter gradient.
_DIRECT_DW_MIN_LANES_USED = 0.75


def _extension_is_current():
    """Whether the compiled extension was built from this version of its source (it has the filter-gradient
    kernel and out= on its pooling kernels); one compiled from an older source keeps the older paths until it
    is rebuilt."""
    return hasattr(unfold.extension, "direct_conv_lanes")


def _direct_input_gradient_applies(dout_shape, w_shape, stride, pad, dtype):
    """Whether _direct_input_gradient computes dx (see there)."""
    F, C, HH, WW = w_shape
    full_pad = HH - 1 - pad
    narrow = C in (3, 4) and _extension_is_current()  # an older build has no 4-filter tile
    taps_allowed = _DIRECT_DX_MAX_NARROW_TAPS if narrow else _DIRECT_DX_MAX_TAPS
    if stride != 1 or HH != WW or full_pad < 0 or dtype != np.float32 or F * HH * WW > taps_allowed:
        return False
    return _direct_applies(dout_shape, (C, F, HH, WW), 1, full_pad, dtype)


@functools.cache
def _blas_controllers():
    """threadpoolctl's controllers of the BLAS libraries NumPy loaded; none without threadpoolctl, or where it
    cannot inspect the process (then everything runs on one thread, as NumPy's BLAS may not)."""
    try:
        from threadpoolctl import ThreadpoolController

        return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
    except Exception:  # a speed-up only: never a reason for a layer to fail
        return ()


def _blas_threads():
    """The thread limit of NumPy's BLAS right now (it follows threadpool_limits and the usual environment
    variables); 1 when it cannot be read."""
    controllers = _blas_controllers()
    return max(1, min(controller.num_threads for controller in controllers)) if controllers else 1


@functools.cache
def _thread_pool(threads):
    """A pool of this many worker threads, made once per count and kept for the process's life."""
    return concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="conv-direct")


# A forked child inherits the pools but not their threads (work sent to them would wait forever): it makes its own.
os.register_at_fork(after_in_child=_thread_pool.cache_clear)


# Winograd's chunks are smaller than im2col's: its transforms run at the speed of the cache holding V and M,
# and the 16 products stay as fast down to a few images (1 thread, x (64, 64, 16, 16) and (128, 16, 32, 32),
# 3x3 filters, 64 and 32 of them: forward and backward 10-30% faster than with 2 MB chunks).
_WINOGRAD_CHUNK_BYTES = 512 * 1024


def _winograd_chunks(num_images, channels, filters, tiles, itemsize):
    """Consecutive slices of the batch whose transformed inputs and products each take about
    _WINOGRAD_CHUNK_BYTES (or _CHUNK_BYTES if smaller)."""
    step = max(1, min(_CHUNK_BYTES, _WINOGRAD_CHUNK_BYTES) // (16 * max(channels, filters) * tiles * itemsize))
    return [slice(start, min(start + step, num_images)) for start in range(0, num_images, step)]


def _winograd_filters(w):
    """U (16, F, C) of 3x3 filters w (F, C, 3, 3): U[4a + b, f, c] = (G w[f, c] G^T)[a, b], in w's dtype (G's
    entries are exact in float32)."""
    G = _WINOGRAD_G.astype(w.dtype)
    F, C = w.shape[:2]
    # Two single BLAS products over all filters at once (einsum, or broadcast matmul of 3x3 blocks, takes
    # over 100 ms for 512 x 512 filters).
    right = np.tensordot(w, G, axes=([3], [1]))  # (F, C, 3, 4): w G^T
    both = np.tensordot(G, right, axes=([1], [2]))  # (4, F, C, 4): G w G^T, indexed [a, f, c, b]
    return np.ascontiguousarray(both.transpose(0, 3, 1, 2)).reshape(16, F, C)  # (16, F, C)


def _winograd_forward(x, w, b, pad):
    """conv_forward_fast for a 3x3 stride-1 filter through Winograd F(2x2, 3x3); x C-contiguous, all one dtype.

    Returns out (N, F, H', W') and the cache for _winograd_backward."""
    N, C, H, W = x.shape
    F = w.shape[0]
    H_out, W_out = H + 2 * pad - 2, W + 2 * pad - 2
    # U[4a + b, f, c] = (G w[f, c] G^T)[a, b], in the input's dtype (G's entries are exact in float32).
    U = _winograd_filters(w)
    out = np.empty((N, F, H_out, W_out), dtype=x.dtype)
    # The extension's whole-plane transforms take one dummy tile per row of 2x2 output tiles: T_rows per image.
    T_rows = ((H_out + 1) // 2) * ((W_out + 1) // 2 + 1)
    for part in _winograd_chunks(N, C, F, T_rows, x.itemsize):
        n = part.stop - part.start
        V = unfold.extension.winograd_input_planes(x[part], pad,
                                                   out=_workspace("cols", (16, C, n * T_rows), x.dtype))
        M = _workspace("out", (16, F, n * T_rows), x.dtype)
        np.matmul(U, V, out=M)  # 16 BLAS products (F, C) @ (C, n*T_rows)
        unfold.extension.winograd_output_planes(M, b, n, H_out, W_out, out=out[part])
    return out, ("winograd", x, w, U, pad)


# Slices of the batch in the Winograd backward pass, on any number of threads (see _over_threads).
_WINOGRAD_BACKWARD_PARTS = 2


def _winograd_backward(dout, x, w, U, pad):
    """conv_backward_fast for a cache of _winograd_forward: the adjoints of its three steps, chunk by chunk
    (or the im2col backward pass where that is faster). U is the forward pass's transformed filters, or None
    after a direct forward pass (then it is made here when needed).

    Returns dx (N, C, H, W), dw (F, C, 3, 3), db (F,) in x's dtype."""
    N, C, H, W = x.shape
    F = w.shape[0]
    H_out, W_out = H + 2 * pad - 2, W + 2 * pad - 2
    _check_dout(dout, (N, F, H_out, W_out))
    all_direct = (_direct_filter_gradient_applies(x.shape, w.shape, 1, pad, x.dtype)
                  and _direct_input_gradient_applies(np.shape(dout), w.shape, 1, pad, x.dtype))
    if x.dtype == np.float32 and (min(C, F) < _WINOGRAD_BACKWARD_MIN_CHANNELS or all_direct):
        return conv_backward_fast(dout, (x, w.reshape(F, C * 9), w.shape, 1, pad))
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    direct_dx = _direct_input_gradient(dout, w, 1, pad, x.dtype)
    if direct_dx is None:  # dV needs the transformed filters
        U_t = (_winograd_filters(w) if U is None else U).transpose(0, 2, 1)  # (16, C, F)
    dx = np.empty(x.shape, dtype=x.dtype) if direct_dx is None else direct_dx
    # The whole-plane kernels: dM is zero at the dummy tiles, so they add nothing to dU and get zero dV.
    T = ((H_out + 1) // 2) * ((W_out + 1) // 2 + 1)
    ext = unfold.extension

    def filter_gradient_of(images):
        """The images' share of dU (16, F, C); their dx written into dx unless done already."""
        dU = np.zeros((16, F, C), dtype=x.dtype)
        for chunk in _winograd_chunks(images.stop - images.start, C, F, T, x.itemsize):
            part = slice(images.start + chunk.start, images.start + chunk.stop)
            n = part.stop - part.start
            dM = ext.winograd_output_planes_adjoint(dout[part], out=_workspace("out", (16, F, n * T), x.dtype))
            # Recomputing the transformed input is cheaper than caching it (four times the size of x).
            V = ext.winograd_input_planes(x[part], pad, out=_workspace("cols", (16, C, n * T), x.dtype))
            dU += dM @ V.transpose(0, 2, 1)  # (16, F, n*T) @ (16, n*T, C)
            if direct_dx is None:
                dV = np.matmul(U_t, dM, out=_workspace("dcols", (16, C, n * T), x.dtype))
                ext.winograd_input_planes_adjoint(dV, n, H, W, pad, out=dx[part])
        return dU

    dU = sum(_over_threads(filter_gradient_of, N, parts=_WINOGRAD_BACKWARD_PARTS))
    G = _WINOGRAD_G.astype(x.dtype)
    left = np.tensordot(G, dU.reshape(4, 4, F, C), axes=([0], [0]))  # (3, 4, F, C): G^T dU, [i, b, f, c]
    both = np.tensordot(left, G, axes=([1], [0]))  # (3, F, C, 3): G^T dU G, [i, f, c, j]
    dw = np.ascontiguousarray(both.transpose(1, 2, 0, 3))  # (F, C, 3, 3)
    db = dout.sum(axis=(0, 2, 3), dtype=np.float64).astype(x.dtype)
    return dx, dw, db


def _pool_geometry(x_shape, pool_param):
    """Validated (pool_height, pool_width, stride, H', W') for an input of shape x_shape."""
    pool_height, pool_width, stride = _check_int_params(pool_param, ("pool_height", "pool_width", "stride"),
                                                        "pool_param")
    if min(pool_height, pool_width, stride) <= 0:
        raise ValueError(f"pool_param values must be > 0; got pool_height={pool_height}, "
                         f"pool_width={pool_width}, stride={stride}")
    H, W = x_shape[2], x_shape[3]
    if pool_height > H or pool_width > W:
        raise ValueError(f"pool window {pool_height}x{pool_width} is larger than the input {H}x{W}")
    return pool_height, pool_width, stride, 1 + (H - pool_height) // stride, 1 + (W - pool_width) // stride


def _compiled_pool(dtype):
    """Whether the compiled max-pooling kernels take arrays of this dtype (built extension, float32/64)."""
    return unfold.extension is not None and dtype in (np.float32, np.float64)


def _window_views(array, pool_height, pool_width, stride, H_out, W_out, tiles):
    """Yield, for each offset (i, j) inside the window in row-major order, the (N, C, H', W') view of ``array``
    holding that offset of every window."""
    if tiles:
        N, C = array.shape[:2]
        blocks = array.reshape(N, C, H_out, pool_height, W_out, pool_width)  # each window is one block
        for i in range(pool_height):
            for j in range(pool_width):
                yield blocks[:, :, :, i, :, j]
        return
    for i in range(pool_height):
        rows = slice(i, i + stride * (H_out - 1) + 1, stride)
        for j in range(pool_width):
            yield array[:, :, rows, slice(j, j + stride * (W_out - 1) + 1, stride)]


def max_pool_forward_fast(x, pool_param):
    """Forward pass of a max-pooling layer (no padding), vectorised.

    Windows that tile the input (stride == pool_height == pool_width, both dividing H and W) are read through a
    reshape of x into blocks; any other windows (overlapping, non-square, leaving rows or columns over) through
    strided views. Either way the maximum is taken elementwise over the pool_height * pool_width offsets inside
    the window, each pass covering every window at once (much faster in NumPy than reducing a length-2 axis).
    With the compiled extension in use, float32/float64 inputs take one pass of its kernel instead, which also
    records where each window's maximum is so that the backward pass only scatters (same output; as np.maximum,
    a window holding a NaN gives NaN).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input. Never modified.
    pool_param : dict
        'pool_height', 'pool_width' and 'stride', all integers > 0.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        H' = 1 + (H - pool_height) // stride and W' = 1 + (W - pool_width) // stride; same dtype as x.
    cache : object
        Opaque; pass it to max_pool_backward_fast.

    Raises
    ------
    ValueError
        x not 4-dimensional, a size <= 0, or a window larger than the input.
    TypeError
        A pool size or stride that is not an integer.
    """
    if np.ndim(x) != 4:
        raise ValueError(f"expected x of shape (N, C, H, W); got shape {np.shape(x)}")
    x = np.asarray(x)
    H, W = x.shape[2:]
    pool_height, pool_width, stride, H_out, W_out = _pool_geometry(x.shape, pool_param)
    tiles = pool_height == pool_width == stride and H % stride == 0 and W % stride == 0
    argmax = None  # where each window's maximum is, when the compiled kernel recorded it
    if _compiled_pool(x.dtype) and H * W < 2 ** 31:  # one pass over x in the compiled extension (same result)
        x = np.ascontiguousarray(x)
        if _extension_is_current():  # a slice of the batch per thread (at 2 threads, 3x3 windows: 1.0 -> 0.4)
            out, argmax = np.empty((*x.shape[:2], H_out, W_out), x.dtype), np.empty((*x.shape[:2], H_out, W_out),
                                                                                     np.int32)
            _over_threads(lambda images: unfold.extension.max_pool_forward(
                x[images], pool_height, pool_width, stride, out=out[images], argmax=argmax[images]), x.shape[0])
        else:
            out, argmax = unfold.extension.max_pool_forward(x, pool_height, pool_width, stride)  # (N, C, H', W')
    else:
        views = _window_views(x, pool_height, pool_width, stride, H_out, W_out, tiles)
        out = next(views).copy()  # (N, C, H', W')
        for view in views:
            np.maximum(out, view, out=out)
    cache = (x, out, argmax, pool_height, pool_width, stride, tiles)
    return out, cache


def max_pool_backward_fast(dout, cache):
    """Backward pass of a max-pooling layer, vectorised.

    Same convention as max_pool_backward_naive: each window's gradient goes to ONE input position, the first
    maximum in row-major order within the window; where overlapping windows share that position their
    gradients add up. All paths (NumPy tiling and general, compiled kernels) use the same rule.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
        Upstream gradient of the layer's output.
    cache : object
        As returned by max_pool_forward_fast.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Gradient with respect to x; zero where no window picked a position.

    Raises
    ------
    ValueError
        If dout's shape is not the forward output's shape.
    """
    x, out, argmax, pool_height, pool_width, stride, tiles = cache
    _check_dout(dout, out.shape)
    dout = np.asarray(dout)
    dtype = np.result_type(x, dout)
    if argmax is not None and dtype in (np.float32, np.float64):
        # The forward pass recorded each window's first maximum: a scatter in the compiled extension.
        # One thread: a slice per thread was slower on the benchmark's shapes (0.2-0.4 ms of work against
        # about 0.05 ms to hand a slice to another thread).
        return unfold.extension.max_pool_backward(np.ascontiguousarray(dout, dtype=dtype), argmax, *x.shape[2:])
    # Tiling windows write every pixel of dx exactly once below, so only overlapping ones need zeros first.
    dx = np.empty(x.shape, dtype=dtype) if tiles else np.zeros(x.shape, dtype=dtype)
    geometry = (pool_height, pool_width, stride) + out.shape[2:]
    unrouted = np.ones(out.shape, dtype=bool)  # windows whose gradient has not found its maximum yet
    is_max = np.empty(out.shape, dtype=bool)
    routed = np.empty(out.shape, dtype=dtype)
    # Visiting the offsets in row-major order and routing each window once makes the first maximum win.
    # Masks multiply rather than select (np.where is several times slower here); the price is that an
    # infinite upstream gradient leaves NaN instead of 0 at the window's other positions. The product goes to
    # a contiguous buffer first: a mixed bool*float ufunc writing to a strided view is slower than both steps.
    last = pool_height * pool_width - 1
    views = zip(_window_views(x, *geometry, tiles), _window_views(dx, *geometry, tiles))
    for offset, (x_view, dx_view) in enumerate(views):
        if offset < last:
            np.equal(x_view, out, out=is_max)
            is_max &= unrouted
        else:  # a window not routed yet has its maximum at its last position: no need to compare
            is_max = unrouted
        np.multiply(is_max, dout, out=routed)
        if tiles:  # every input pixel lies in exactly one window: plain assignment
            np.copyto(dx_view, routed)
        else:  # overlapping windows may share a maximum; within one offset the targets are distinct pixels
            dx_view += routed
        if offset < last:
            unrouted ^= is_max  # is_max is a subset of unrouted: this clears exactly the windows just routed
    return dx
