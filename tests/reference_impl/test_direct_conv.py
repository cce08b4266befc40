"""The extension's direct float32 convolution (direct_conv_forward) and fast_layers' use of it, against the
float64 naive layer and PyTorch, with every vector kernel this CPU can run."""
import numpy as np
import pytest

from reference_impl import fast_layers, im2col
from reference_impl.conv_naive import conv_backward_naive, conv_forward_naive
from reference_impl.fast_layers import conv_backward_fast, conv_forward_fast

from test_fast_layers import FLOAT32_TOLERANCE, _reached_conv, _winograd_taken, conv_inputs

extension = im2col.extension
KERNEL = None if extension is None or not hasattr(extension, "direct_conv_kernel") else extension.direct_conv_kernel()
needs_kernel = pytest.mark.skipif(KERNEL is None, reason="extension not built, or built without the direct kernel")
# Kernels from the most capable down; a CPU runs the one it reports and every one after it.
ORDER = ["avx512", "avx2", "baseline"]
RUNNABLE = ORDER[ORDER.index(KERNEL):] if KERNEL in ORDER else []

# (x shape, w shape, stride, pad). Between them: strides 1 to 4 that do and do not divide (the output floors),
# pads 0 to 3, square and non-square filters as large as the padded input, filter counts that do not fill a
# block of 4 or 8 (1, 5, 9, 17), output rows narrower than a vector, exactly one, and a few lanes more than
# two or three (W' of 1, 4, 16, 17, 33, 49), one image and several, and one channel and many.
CASES = [
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((3, 2, 7, 9), (5, 2, 2, 4), 3, 2),
    ((2, 3, 16, 16), (9, 3, 3, 3), 1, 1),
    ((2, 3, 31, 31), (17, 3, 3, 3), 2, 1),
    ((2, 2, 17, 33), (8, 2, 3, 5), 1, 2),
    ((1, 3, 41, 45), (6, 3, 7, 7), 2, 3),
    ((2, 4, 12, 10), (3, 4, 4, 3), 4, 3),
    ((2, 1, 6, 7), (2, 1, 8, 9), 1, 1),
    ((4, 16, 6, 5), (12, 16, 1, 1), 1, 0),
    ((2, 3, 11, 51), (1, 3, 3, 3), 1, 0),
    ((3, 4, 10, 32), (8, 4, 3, 3), 1, 1),  # rows of whole vectors, filters in whole blocks: dw reads dout in place
]


def _float64_reference(x, w, b, stride, pad):
    return _reached_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), stride, pad)


def _recorded(monkeypatch, name):
    """A list that collects each result of fast_layers.<name> from now on (the function still runs)."""
    calls, real = [], getattr(fast_layers, name)
    monkeypatch.setattr(fast_layers, name, lambda *args: calls.append(real(*args)) or calls[-1])
    return calls


def _assert_close(result, reference):
    assert result.dtype == np.float32 and result.shape == reference.shape
    assert np.abs(result - reference).max() <= FLOAT32_TOLERANCE * np.abs(reference).max()


@needs_kernel
@pytest.mark.parametrize("kernel", RUNNABLE)
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CASES)
def test_direct_kernels_match_the_float64_naive_layer(rng, kernel, x_shape, w_shape, stride, pad):
    x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
    reference, _ = _float64_reference(x, w, b, stride, pad)
    _assert_close(extension.direct_conv_forward(x, w, b, stride, pad, kernel=kernel), reference)


@needs_kernel
@pytest.mark.parametrize("kernel", RUNNABLE)
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CASES)
def test_direct_filter_gradient_kernels_match_the_float64_naive_layer(rng, kernel, x_shape, w_shape, stride, pad):
    x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
    reference, backward = _float64_reference(x, w, b, stride, pad)
    dout = rng.standard_normal(reference.shape).astype(np.float32)
    _, dw, _ = backward(dout.astype(np.float64))
    _assert_close(extension.direct_conv_filter_gradient(x, dout, *w_shape[2:], stride, pad, kernel=kernel), dw)


@needs_kernel
@pytest.mark.parametrize("kernel", RUNNABLE)
@pytest.mark.parametrize("C, H, W, N", [(32, 62, 62, 3), (16, 62, 62, 5), (2, 200, 7, 3)],
                         ids=["one-image-chunks", "smaller-last-chunk", "tall-images"])
def test_batches_over_several_chunks_match(rng, kernel, C, H, W, N):
    # The planes of 32 channels of 62x62 images at stride 2 fill a whole chunk (32 * 4 * 32 * 32 floats), so
    # each image is a chunk of its own; 16 channels give chunks of 2 and a last chunk of 1.
    x, w, b = conv_inputs(rng, (N, C, H, W), (5, C, 3, 3), dtype=np.float32)
    reference, backward = _float64_reference(x, w, b, 2, 1)
    _assert_close(extension.direct_conv_forward(x, w, b, 2, 1, kernel=kernel), reference)
    dout = rng.standard_normal(reference.shape).astype(np.float32)
    _, dw, _ = backward(dout.astype(np.float64))
    _assert_close(extension.direct_conv_filter_gradient(x, dout, 3, 3, 2, 1, kernel=kernel), dw)


@needs_kernel
def test_direct_filter_gradient_refuses_what_it_cannot_compute(rng):
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    dout = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
    assert extension.direct_conv_filter_gradient(x, dout, 3, 3, 1, 1).shape == (4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4, 8, 8\)"):
        extension.direct_conv_filter_gradient(x, dout[:, :, :7].copy(), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="dout must have shape"):
        extension.direct_conv_filter_gradient(x, dout, 3, 3, 2, 1)  # stride 2 gives 4x4 outputs
    with pytest.raises(ValueError, match="exceeds padded input"):
        extension.direct_conv_filter_gradient(x, dout, 11, 3, 1, 1)
    with pytest.raises(ValueError, match="stride"):
        extension.direct_conv_filter_gradient(x, dout, 3, 3, 0, 1)
    with pytest.raises(ValueError, match="kernel must be one of"):
        extension.direct_conv_filter_gradient(x, dout, 3, 3, 1, 1, kernel="sse9")


@needs_kernel
def test_direct_kernel_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    for x_shape, w_shape, stride, pad in CASES:
        x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
        expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                              stride=stride, padding=pad).numpy()
        _assert_close(extension.direct_conv_forward(x, w, b, stride, pad), expected.astype(np.float64))


@needs_kernel
def test_out_is_written_in_place_and_checked(rng):
    x, w, b = conv_inputs(rng, (4, 3, 9, 9), (5, 3, 3, 3), dtype=np.float32)
    whole = extension.direct_conv_forward(x, w, b, 2, 1)
    out = np.full((4, 5, 5, 5), np.nan, dtype=np.float32)
    written = extension.direct_conv_forward(x[1:3], w, b, 2, 1, out=out[1:3])
    assert np.shares_memory(written, out)
    np.testing.assert_array_equal(out[1:3], whole[1:3])  # the same kernel on the same images: equal bits
    assert np.isnan(out[[0, 3]]).all()  # nothing written outside the slice
    for wrong in (np.empty((2, 5, 5, 4), np.float32), np.empty((2, 5, 5, 5), np.float64),
                  np.empty((2, 5, 5, 10), np.float32)[..., ::2]):
        with pytest.raises(ValueError, match="out must be a C-contiguous float32 array of shape"):
            extension.direct_conv_forward(x[:2], w, b, 2, 1, out=wrong)


@needs_kernel
def test_bad_geometry_and_kernel_names_are_refused(rng):
    x, w, b = conv_inputs(rng, (2, 3, 5, 5), (4, 3, 3, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="x has 3 channels and w expects 2"):
        extension.direct_conv_forward(x, w[:, :2].copy(), b, 1, 1)
    with pytest.raises(ValueError, match="b has 3 entries for 4 filters"):
        extension.direct_conv_forward(x, w, b[:3].copy(), 1, 1)
    with pytest.raises(ValueError, match="exceeds padded input"):
        extension.direct_conv_forward(x[:, :, :2].copy(), w, b, 1, 0)
    with pytest.raises(ValueError, match="need stride >= 1"):
        extension.direct_conv_forward(x, w, b, 0, 1)
    with pytest.raises(ValueError, match="kernel must be one of"):
        extension.direct_conv_forward(x, w, b, 1, 1, kernel="sse9")


@needs_kernel
@pytest.mark.parametrize("x_shape, w_shape, stride, pad, winograd_backward", [
    ((3, 3, 11, 10), (5, 3, 7, 7), 2, 3, False),
    ((2, 4, 9, 9), (6, 4, 3, 5), 1, 1, False),
    ((2, 16, 8, 8), (12, 16, 3, 3), 1, 1, True),  # few channels: forward direct, backward still Winograd's
    ((2, 16, 6, 6), (120, 16, 3, 3), 1, 1, True),  # 1080 taps for dx: Winograd's dV, its filters made late
])
def test_layer_takes_the_direct_forward_and_its_backward_matches(rng, x_shape, w_shape, stride, pad,
                                                                 winograd_backward):
    x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
    param = {"stride": stride, "pad": pad}
    assert fast_layers._direct_applies(x.shape, w.shape, stride, pad, np.float32)
    out, cache = conv_forward_fast(x, w, b, param)
    np.testing.assert_array_equal(out, extension.direct_conv_forward(x, w, b, stride, pad))
    assert _winograd_taken(cache) == winograd_backward
    reference, backward = _float64_reference(x, w, b, stride, pad)
    _assert_close(out, reference)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    for result, expected in zip(conv_backward_fast(dout, cache), backward(dout.astype(np.float64))):
        _assert_close(result, expected)


@needs_kernel
def test_only_float32_and_not_winograds_best_shapes_go_direct():
    assert not fast_layers._direct_applies((2, 3, 8, 8), (4, 3, 3, 3), 1, 1, np.float64)
    assert not fast_layers._direct_applies((2, 128, 8, 8), (64, 128, 3, 3), 1, 1, np.float32)  # Winograd's
    assert fast_layers._direct_applies((2, 64, 8, 8), (64, 64, 3, 3), 1, 1, np.float32)  # 64 channels
    assert fast_layers._direct_applies((2, 128, 4, 4), (64, 128, 3, 3), 1, 1, np.float32)  # 4x4 outputs
    assert fast_layers._direct_applies((2, 128, 8, 8), (64, 128, 3, 3), 2, 1, np.float32)  # stride 2


def test_numpy_backend_never_goes_direct(monkeypatch):
    monkeypatch.setattr(im2col, "BACKEND", "numpy")
    assert not fast_layers._direct_applies((2, 3, 8, 8), (4, 3, 7, 7), 1, 3, np.float32)


@needs_kernel
def test_threads_split_the_batch_and_give_the_same_bits(rng):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, w, b = conv_inputs(rng, (7, 3, 12, 12), (5, 3, 5, 5), dtype=np.float32)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert fast_layers._blas_threads() == 1
        one = fast_layers._direct_forward(x, w, b, 1, 2)
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        if fast_layers._blas_threads() != 3:
            pytest.skip("NumPy's BLAS does not take a limit of 3 threads here")
        three = fast_layers._direct_forward(x, w, b, 1, 2)
    np.testing.assert_array_equal(three, one)


def test_float64_layers_are_unchanged_by_the_direct_path(rng):
    # Float64 never goes direct: it stays within 1e-9 of the naive layer on a shape float32 sends direct.
    x, w, b = conv_inputs(rng, (2, 3, 9, 9), (4, 3, 7, 7))
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 3})
    reference, naive_cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 3})
    assert np.abs(out - reference).max() <= 1e-9 * np.abs(reference).max()
    dout = rng.standard_normal(out.shape)
    for fast, naive in zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, naive_cache)):
        assert np.abs(fast - naive).max() <= 1e-9 * np.abs(naive).max()


@needs_kernel
@pytest.mark.parametrize("x_shape, w_shape, pad", [
    ((2, 4, 9, 11), (6, 4, 5, 5), 2),
    ((3, 3, 8, 7), (5, 3, 3, 3), 0),  # padded by 2 for dx: every output reaches the border
    ((2, 16, 6, 6), (12, 16, 3, 3), 1),  # the Winograd backward pass with dx from the direct kernel
    ((2, 5, 4, 4), (3, 5, 1, 1), 0),
    ((2, 3, 10, 12), (32, 3, 7, 7), 3),  # the net's first layer: 1568 taps, in the 4-filter tile
])
def test_stride_one_input_gradient_comes_from_the_direct_kernel(rng, monkeypatch, x_shape, w_shape, pad):
    x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": pad})
    dout = rng.standard_normal(out.shape).astype(np.float32)
    calls = _recorded(monkeypatch, "_direct_input_gradient")
    gradients = conv_backward_fast(dout, cache)
    assert len(calls) == 1 and calls[0] is gradients[0]  # dx is the direct kernel's result
    _, backward = _float64_reference(x, w, b, 1, pad)
    for result, expected in zip(gradients, backward(dout.astype(np.float64))):
        _assert_close(result, expected)


@needs_kernel
def test_input_gradient_is_left_to_the_backward_pass_elsewhere(rng):
    dout = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    assert fast_layers._direct_input_gradient(dout, w, 1, 1, np.float32) is not None
    assert fast_layers._direct_input_gradient(dout, w, 2, 1, np.float32) is None  # stride 2
    assert fast_layers._direct_input_gradient(dout, w, 1, 3, np.float32) is None  # pad beyond HH - 1
    assert fast_layers._direct_input_gradient(dout, w, 1, 1, np.float64) is None
    assert fast_layers._direct_input_gradient(dout, w[:, :, :, :2].copy(), 1, 1, np.float32) is None
    wide_dout = rng.standard_normal((2, 120, 5, 5)).astype(np.float32)
    for channels, direct in [(5, False), (1, False), (3, True), (4, True)]:  # 1080 taps for dx
        many_taps = rng.standard_normal((120, channels, 3, 3)).astype(np.float32)
        assert (fast_layers._direct_input_gradient(wide_dout, many_taps, 1, 1, np.float32) is not None) == direct
    too_many = rng.standard_normal((456, 3, 3, 3)).astype(np.float32)  # 4104 taps, over the 4-filter tile's cap
    assert fast_layers._direct_input_gradient(rng.standard_normal((1, 456, 5, 5)).astype(np.float32), too_many,
                                              1, 1, np.float32) is None


def test_thread_count_falls_back_to_one_without_threadpoolctl(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_threadpoolctl)
    fast_layers._blas_controllers.cache_clear()
    try:
        assert fast_layers._blas_controllers() == ()
        assert fast_layers._blas_threads() == 1
        assert fast_layers._over_threads(lambda images: (images.start, images.stop), 5) == [(0, 5)]
    finally:
        fast_layers._blas_controllers.cache_clear()


def test_a_forked_child_gets_thread_pools_of_its_own(rng):
    # The grader forks its workers after the parent may have run the layers on threads: before the fix, the
    # child's first multi-threaded call waited forever on the parent's pool, whose threads it never had.
    import multiprocessing

    import time

    # The parent's pool has started both its threads, which now wait idle (as after any layer call).
    list(fast_layers._thread_pool(2).map(time.sleep, [0.05, 0.05]))

    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        result = pool.apply_async(_two_slices_in_a_child)
        assert result.get(timeout=120) == [(0, 1), (1, 2)]


def _two_slices_in_a_child():
    pool = fast_layers._thread_pool(2)
    return list(pool.map(lambda images: (images.start, images.stop), [slice(0, 1), slice(1, 2)]))


@pytest.mark.skipif(extension is None, reason="Winograd needs the compiled extension")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_backward_rounds_the_same_on_any_number_of_threads(rng, dtype):
    # The grader computes expected values in processes with different BLAS thread limits.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, w, b = conv_inputs(rng, (7, 12, 6, 6), (10, 12, 3, 3), dtype=dtype)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert _winograd_taken(cache)
    dout = rng.standard_normal(out.shape).astype(dtype)
    results = {}
    for threads in (1, 2, 3):
        with threadpoolctl.threadpool_limits(threads, user_api="blas"):
            results[threads] = conv_backward_fast(dout, cache)
    for threads in (2, 3):
        for one, other in zip(results[1], results[threads]):
            np.testing.assert_array_equal(other, one)


LANES = extension.direct_conv_lanes() if KERNEL is not None else None


@needs_kernel
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", [
    ((2, 3, 20, 32), (6, 3, 7, 7), 1, 3),  # an im2col cache: the net's first layer
    ((2, 3, 33, 64), (5, 3, 7, 7), 2, 3),  # stride 2 (dx stays im2col's), a stride that does not divide
    ((2, 16, 16, 16), (12, 16, 3, 3), 1, 1),  # a Winograd cache: dx and dw both direct
])
def test_filter_gradient_comes_from_the_direct_kernel(rng, monkeypatch, x_shape, w_shape, stride, pad):
    x, w, b = conv_inputs(rng, x_shape, w_shape, dtype=np.float32)
    out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.standard_normal(out.shape).astype(np.float32)
    calls = _recorded(monkeypatch, "_direct_filter_gradient")
    gradients = conv_backward_fast(dout, cache)
    assert len(calls) == 1 and calls[0] is gradients[1]  # dw is the direct kernel's result
    _, backward = _float64_reference(x, w, b, stride, pad)
    for result, expected in zip(gradients, backward(dout.astype(np.float64))):
        _assert_close(result, expected)


@needs_kernel
def test_filter_gradient_is_left_to_the_backward_pass_elsewhere():
    assert fast_layers._direct_filter_gradient_applies((2, 3, 8, 2 * LANES), (4, 3, 3, 3), 1, 1, np.float32)
    assert not fast_layers._direct_filter_gradient_applies((2, 3, 8, 2 * LANES), (4, 3, 3, 3), 1, 1, np.float64)
    assert not fast_layers._direct_filter_gradient_applies((2, 3, 8, 2 * LANES), (4, 3, 1, 1), 1, 0, np.float32)
    # Rows of half a vector leave half the lanes idle (and 1.5 vectors a quarter, which is enough).
    assert not fast_layers._direct_filter_gradient_applies((2, 3, 8, LANES // 2), (4, 3, 3, 3), 1, 1,
                                                           np.float32)
    assert fast_layers._direct_filter_gradient_applies((2, 3, 8, LANES * 3 // 2), (4, 3, 3, 3), 1, 1, np.float32)
    assert not fast_layers._direct_filter_gradient_applies((2, 128, 8, 2 * LANES), (64, 128, 3, 3), 1, 1,
                                                           np.float32)  # Winograd's forward, and backward


@needs_kernel
def test_filter_gradient_has_the_same_bits_on_any_number_of_threads(rng):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x = rng.standard_normal((7, 3, 12, 2 * LANES)).astype(np.float32)
    dout = rng.standard_normal((7, 5, 12, 2 * LANES)).astype(np.float32)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        one = fast_layers._direct_filter_gradient(x, dout, (5, 3, 5, 5), 1, 2)
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        if fast_layers._blas_threads() != 3:
            pytest.skip("NumPy's BLAS does not take a limit of 3 threads here")
        three = fast_layers._direct_filter_gradient(x, dout, (5, 3, 5, 5), 1, 2)
    np.testing.assert_array_equal(three, one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_empty_batch_passes_through_every_layer(rng, dtype):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, w, b = conv_inputs(rng, (0, 3, 16, 16), (4, 3, 3, 3), dtype=dtype)
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(threads, user_api="blas"):
            for stride in (1, 2):
                out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": 1})
                assert out.shape == (0, 4, 16 // stride, 16 // stride) and out.dtype == dtype
                dx, dw, db = conv_backward_fast(out, cache)
                assert dx.shape == x.shape and not dw.any() and not db.any()
            pooled, pool_cache = fast_layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2,
                                                                       "stride": 2})
            assert pooled.shape == (0, 3, 8, 8)
            assert fast_layers.max_pool_backward_fast(pooled, pool_cache).shape == x.shape


@pytest.mark.skipif(extension is None or not hasattr(extension, "direct_conv_lanes"),
                    reason="needs the compiled extension built from this source")
@pytest.mark.parametrize("window, stride", [(2, 2), (3, 2), (3, 1)])
def test_pooling_split_over_threads_matches_the_naive_layer(rng, window, stride):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from reference_impl.pool_naive import max_pool_backward_naive, max_pool_forward_naive

    x = rng.standard_normal((7, 3, 9, 9))
    param = {"pool_height": window, "pool_width": window, "stride": stride}
    expected, naive_cache = max_pool_forward_naive(x, param)
    dout = rng.standard_normal(expected.shape)
    expected_dx = max_pool_backward_naive(dout, naive_cache)
    for threads in (1, 3):
        with threadpoolctl.threadpool_limits(threads, user_api="blas"):
            out, cache = fast_layers.max_pool_forward_fast(x, param)
            np.testing.assert_array_equal(out, expected)
            np.testing.assert_allclose(fast_layers.max_pool_backward_fast(dout, cache), expected_dx, rtol=0,
                                       atol=1e-12)


@pytest.mark.skipif(extension is None or not hasattr(extension, "direct_conv_lanes"),
                    reason="needs the compiled extension built from this source")
def test_pooling_kernels_check_the_arrays_they_write_into(rng):
    x = rng.standard_normal((2, 3, 8, 8))
    out, argmax = extension.max_pool_forward(x, 2, 2, 2)
    with pytest.raises(ValueError, match="out and argmax together"):
        extension.max_pool_forward(x, 2, 2, 2, out=np.empty_like(out))
    with pytest.raises(ValueError, match="float64 array of shape"):
        extension.max_pool_forward(x, 2, 2, 2, out=np.empty((2, 3, 4, 3)), argmax=argmax.copy())
    with pytest.raises(ValueError, match="int32 array of shape"):
        extension.max_pool_forward(x, 2, 2, 2, out=np.empty_like(out), argmax=argmax.astype(np.int64))
    with pytest.raises(ValueError, match="float64 array of shape"):
        extension.max_pool_backward(out, argmax, 8, 8, out=np.empty((2, 3, 8, 8), np.float32))
    written = np.empty((2, 3, 8, 8))
    assert extension.max_pool_backward(out, argmax, 8, 8, out=written) is written


@needs_kernel
def test_an_extension_built_from_an_older_source_keeps_the_older_paths(rng, monkeypatch):
    # Students who pull the new fast_layers.py but have not rebuilt keep an extension without the filter-gradient
    # kernel, the 4-filter tile and out= on pooling: the layers must not call what it lacks.
    class OlderExtension:
        def __init__(self, current):
            for name in ("direct_conv_forward", "direct_conv_kernel", "max_pool_forward", "max_pool_backward",
                         "winograd_input_planes", "winograd_output_planes", "winograd_output_planes_adjoint",
                         "winograd_input_planes_adjoint", "im2col", "col2im"):
                if hasattr(current, name):
                    setattr(self, name, getattr(current, name))

    monkeypatch.setattr(im2col, "extension", OlderExtension(extension))
    assert not fast_layers._extension_is_current()
    x, w, b = conv_inputs(rng, (2, 3, 10, 32), (32, 3, 7, 7), dtype=np.float32)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 3})
    dout = rng.standard_normal(out.shape).astype(np.float32)
    assert fast_layers._direct_input_gradient(dout, w, 1, 3, np.float32) is None  # 1568 taps, no narrow tile
    assert not fast_layers._direct_filter_gradient_applies(x.shape, w.shape, 1, 3, np.float32)
    _, backward = _float64_reference(x, w, b, 1, 3)
    for result, expected in zip(conv_backward_fast(dout, cache), backward(dout.astype(np.float64))):
        _assert_close(result, expected)
    pooled, pool_cache = fast_layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert fast_layers.max_pool_backward_fast(pooled, pool_cache).shape == x.shape
