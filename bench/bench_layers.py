"""Speed of the fast conv/pool layers, side by side in one run: naive vs fast, Cython vs NumPy im2col, and fast vs
PyTorch CPU (when torch is installed), at one thread count and in float64 and float32.

Usage (from the project root):  .venv/bin/python bench/bench_layers.py [--threads N] [--repeat R] [--no-naive]

Every time is the median of R repeats of a forward+backward pass (the naive layers: best of 2 single passes,
they are slow). Ratios are "other time / fast time", so > 1 means the fast layer wins. All NumPy work is timed
before any PyTorch work, so PyTorch's idle OpenMP threads cannot steal cycles from it.
"""
import argparse
import contextlib
import functools
import os
import platform
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from reference_impl import conv_naive, fast_layers, im2col, pool_naive  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None

# (name, x shape, w shape, conv_param): the seed notebook's check and the three-layer net's first layer.
CONV_CASES = [
    ("conv seed", (100, 3, 31, 31), (25, 3, 3, 3), {"stride": 2, "pad": 1}),
    ("conv 3-layer net", (50, 3, 32, 32), (32, 3, 7, 7), {"stride": 1, "pad": 3}),
]
POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}
POOL_CASES = [
    ("pool seed", (100, 3, 32, 32), POOL_2X2),
    ("pool 3-layer net", (50, 32, 32, 32), POOL_2X2),
]


TIMERS = {"wall": timeit.default_timer, "cpu": time.process_time}
timer = TIMERS["wall"]  # set once by main() from --timer


def median_seconds(step, repeat, target=0.05):
    """Median time of one call of ``step``, each of ``repeat`` samples looping long enough (~target s)."""
    once = min(timeit.repeat(step, number=1, repeat=2, timer=timer))
    number = max(1, int(target / max(once, 1e-9)))
    return float(np.median(timeit.repeat(step, number=number, repeat=repeat, timer=timer))) / number


def best_of_two(step):
    return min(timeit.repeat(step, number=1, repeat=2, timer=timer))


@contextlib.contextmanager
def numpy_im2col():
    """Temporarily route the fast layers through the NumPy im2col fallback."""
    saved = im2col.im2col, im2col.col2im
    im2col.im2col, im2col.col2im = im2col.im2col_numpy, im2col.col2im_numpy
    try:
        yield
    finally:
        im2col.im2col, im2col.col2im = saved


def conv_steps(x, w, b, conv_param):
    """Forward+backward closures for the fast and naive conv layers on one input."""
    out, _ = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)

    def fast():
        _, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
        fast_layers.conv_backward_fast(dout, cache)

    def naive():
        _, cache = conv_naive.conv_forward_naive(x, w, b, conv_param)
        conv_naive.conv_backward_naive(dout, cache)

    return fast, naive, dout


def pool_steps(x, pool_param):
    """Forward+backward closures for the fast and naive pooling layers on one input."""
    out, _ = fast_layers.max_pool_forward_fast(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)

    def fast():
        _, cache = fast_layers.max_pool_forward_fast(x, pool_param)
        fast_layers.max_pool_backward_fast(dout, cache)

    def naive():
        _, cache = pool_naive.max_pool_forward_naive(x, pool_param)
        pool_naive.max_pool_backward_naive(dout, cache)

    return fast, naive, dout


def torch_step(forward, inputs, dout):
    """Forward+backward closure with autograd; gradients are reset so every call allocates them afresh."""
    leaves = [torch.from_numpy(a).requires_grad_() for a in inputs]
    grad = torch.from_numpy(dout)

    def step():
        for leaf in leaves:
            leaf.grad = None
        forward(*leaves).backward(grad)

    return step


def run(repeat, with_naive):
    rows = []  # (case, dtype, fast seconds, naive s or None, numpy-im2col s or None, torch step or None)
    rng = np.random.default_rng(231)
    for dtype in (np.float64, np.float32):
        for name, x_shape, w_shape, conv_param in CONV_CASES:
            x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
            b = rng.standard_normal(w_shape[0]).astype(dtype)
            fast, naive, dout = conv_steps(x, w, b, conv_param)
            fast_time = median_seconds(fast, repeat)
            numpy_time = None
            if im2col.BACKEND == "cython":
                with numpy_im2col():
                    numpy_time = median_seconds(fast, repeat)
            naive_time = best_of_two(naive) if with_naive else None
            step = None if torch is None else torch_step(
                functools.partial(torch.nn.functional.conv2d, stride=conv_param["stride"],
                                  padding=conv_param["pad"]), (x, w, b), dout)
            rows.append([name, np.dtype(dtype).name, fast_time, naive_time, numpy_time, step])
        for name, x_shape, pool_param in POOL_CASES:
            x = rng.standard_normal(x_shape).astype(dtype)
            fast, naive, dout = pool_steps(x, pool_param)
            fast_time = median_seconds(fast, repeat)
            naive_time = best_of_two(naive) if with_naive else None
            step = None if torch is None else torch_step(
                functools.partial(torch.nn.functional.max_pool2d, kernel_size=(
                    pool_param["pool_height"], pool_param["pool_width"]), stride=pool_param["stride"]), (x,), dout)
            rows.append([name, np.dtype(dtype).name, fast_time, naive_time, None, step])
    # PyTorch last (see the module docstring).
    for row in rows:
        row[5] = None if row[5] is None else median_seconds(row[5], repeat)
    return rows


def ratio(other, fast):
    return "-" if other is None else f"{other / fast:8.2f}x"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS and PyTorch threads (default: all %(default)s cores)")
    parser.add_argument("--repeat", type=int, default=7, help="timing samples per measurement")
    parser.add_argument("--no-naive", action="store_true", help="skip the slow naive layers")
    parser.add_argument("--timer", choices=sorted(TIMERS), default="wall",
                        help="wall clock, or process CPU time (steadier on a busy machine; with several threads it "
                             "adds up the threads' time, so it measures work rather than latency)")
    args = parser.parse_args()
    global timer
    timer = TIMERS[args.timer]

    limits = contextlib.nullcontext()
    if threadpool_limits is not None:
        limits = threadpool_limits(limits=args.threads, user_api="blas")
        blas = ", ".join(f"{p['internal_api']} {p['version']}" for p in threadpool_info()
                         if p["user_api"] == "blas")
    else:
        blas = "unknown (install threadpoolctl to pin BLAS threads)"
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"Python {platform.python_version()}, NumPy {np.__version__} ({blas}), "
          f"PyTorch {torch.__version__ if torch else 'not installed'}")
    print(f"threads: {args.threads} (BLAS and PyTorch), im2col backend: {im2col.BACKEND}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {args.timer} timer, repeat {args.repeat}")
    with limits:
        rows = run(args.repeat, not args.no_naive)

    print(f"\n{'case':18s} {'dtype':8s} {'fast f+b':>10s} {'naive/fast':>10s} {'numpy/cython':>12s} "
          f"{'torch/fast':>10s}")
    for name, dtype, fast, naive, numpy_time, torch_time in rows:
        print(f"{name:18s} {dtype:8s} {fast * 1e3:8.2f}ms {ratio(naive, fast):>10s} {ratio(numpy_time, fast):>12s} "
              f"{ratio(torch_time, fast):>10s}")
    print("\nratios are other/fast: > 1 means the fast layer is faster. numpy/cython compares the two im2col "
          "backends inside conv_*_fast (pooling does not use im2col).")


if __name__ == "__main__":
    main()
