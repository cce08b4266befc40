"""Speed (and, with --memory, peak memory) of the kit's fast conv/pool layers against PyTorch's CPU kernels,
measured side by side in one run.

Usage (from the project root)::

    .venv/bin/python bench/bench_layers.py [--threads N] [--repeat R] [--memory] [--cases NAME ...]

For every case of CASES (issue 10's table plus the three-layer net's training step), in float32 and float64, it
times the forward pass, the backward pass alone (from a saved forward) and forward+backward, and prints
kit time / PyTorch time: below 1.0 the kit is faster. Kit and PyTorch samples alternate (kit, torch, torch, kit,
...) so that a change of load on a shared machine hits both alike; each ratio is the ratio of the two medians.
NumPy's BLAS (via threadpoolctl) and PyTorch (torch.set_num_threads) get the same thread count.

It also prints, for the 64-channel shape, the conv forward time divided by the time of the one BLAS product of
the im2col-shaped matrices, (F, C*HH*WW) @ (C*HH*WW, N*H'*W'): how close the forward pass is to its GEMM limit.

--memory runs each case's forward+backward once in a fresh subprocess per library and reports the growth of the
peak resident set size over the inputs (Linux: the peak is reset through /proc/self/clear_refs just before).
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from reference_impl import im2col  # noqa: E402
from reference_impl.cnn import ThreeLayerConvNet  # noqa: E402
from reference_impl.fast_layers import (conv_backward_fast, conv_forward_fast, max_pool_backward_fast,  # noqa: E402
                                        max_pool_forward_fast)

try:
    import torch
    import torch.nn.functional as torch_f
except ImportError:
    torch = torch_f = None
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_info = threadpool_limits = None

# name -> (kind, geometry). conv: x shape, w shape, stride, pad; pool: x shape, pool height, width, stride;
# net: batch size of ThreeLayerConvNet's default model (3x32x32 images, 32 7x7 filters, 100 hidden units).
CASES = {
    "conv seed 100x3x31x31 w25x3x3 s2p1": ("conv", ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1)),
    "conv net 50x3x32x32 w32x3x7 s1p3": ("conv", ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3)),
    "conv 64x64x16x16 w64x64x3 s1p1": ("conv", ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1)),
    "conv 128x16x32x32 w32x16x3 s1p1": ("conv", ((128, 16, 32, 32), (32, 16, 3, 3), 1, 1)),
    "conv 8x3x223x223 w64x3x7 s2p3": ("conv", ((8, 3, 223, 223), (64, 3, 7, 7), 2, 3)),
    "conv 8x3x224x224 w64x3x7 s2p3": ("conv", ((8, 3, 224, 224), (64, 3, 7, 7), 2, 3)),  # floors: 229 - 7 odd
    "pool 64x64x16x16 3x3 s2": ("pool", ((64, 64, 16, 16), 3, 3, 2)),
    "pool 50x32x32x32 2x2 s2": ("pool", ((50, 32, 32, 32), 2, 2, 2)),
    "net step N=50": ("net", 50),
}
GEMM_CASE = "conv 64x64x16x16 w64x64x3 s1p1"
PHASES = ("fwd", "bwd", "f+b")
DTYPES = ("float32", "float64")


def _kit_and_torch(kind, geometry, dtype, rng):
    """{phase: (kit closure, torch closure)} for one case; every closure does its work and returns nothing."""
    if kind == "net":
        return _net_steps(geometry, dtype, rng)
    if kind == "conv":
        x_shape, w_shape, stride, pad = geometry
        inputs = [rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1])]
        param = {"stride": stride, "pad": pad}

        def kit_forward():
            return conv_forward_fast(*inputs, param)

        kit_backward = conv_backward_fast

        def torch_forward(*leaves):
            return torch_f.conv2d(*leaves, stride=stride, padding=pad)
    else:
        x_shape, pool_height, pool_width, stride = geometry
        inputs = [rng.standard_normal(x_shape).astype(dtype)]
        param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}

        def kit_forward():
            return max_pool_forward_fast(inputs[0], param)

        kit_backward = max_pool_backward_fast

        def torch_forward(leaf):
            return torch_f.max_pool2d(leaf, (pool_height, pool_width), stride)

    out, cache = kit_forward()
    dout = rng.standard_normal(out.shape).astype(dtype)
    # The kit's forward keeps a cache for backward; PyTorch's forward records its autograd graph likewise.
    leaves = [torch.from_numpy(a).requires_grad_() for a in inputs]
    dout_t = torch.from_numpy(dout)
    saved_t = torch_forward(*leaves)

    def kit_fb():
        kit_backward(dout, kit_forward()[1])

    def torch_fwd():
        torch_forward(*leaves)

    def torch_bwd():
        torch.autograd.grad(saved_t, leaves, dout_t, retain_graph=True)

    def torch_fb():
        torch.autograd.grad(torch_forward(*leaves), leaves, dout_t)

    return {"fwd": (kit_forward, torch_fwd), "bwd": (lambda: kit_backward(dout, cache), torch_bwd),
            "f+b": (kit_fb, torch_fb)}


def _net_steps(batch, dtype, rng):
    """The three-layer net's loss (fwd) and loss+gradients (f+b), the kit's model against the same model in
    PyTorch (same weights, inputs that need no gradient, as in training); bwd is not separable here."""
    model = ThreeLayerConvNet(dtype=getattr(np, dtype), weight_scale=1e-2, reg=1e-3, seed=0)
    X = rng.standard_normal((batch, 3, 32, 32)).astype(dtype)
    y = rng.integers(0, 10, batch)
    params = {k: torch.from_numpy(v).requires_grad_() for k, v in model.params.items()}
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    pad = (model.params["W1"].shape[2] - 1) // 2

    def torch_loss():
        p = params
        a = torch_f.max_pool2d(torch.relu(torch_f.conv2d(X_t, p["W1"], p["b1"], padding=pad)), 2, 2)
        h = torch.relu(a.flatten(1) @ p["W2"] + p["b2"])
        scores = h @ p["W3"] + p["b3"]
        return torch_f.cross_entropy(scores, y_t) + 0.5 * model.reg * sum((p[w] ** 2).sum() for w in ("W1", "W2",
                                                                                                       "W3"))

    def torch_fb():
        torch.autograd.grad(torch_loss(), list(params.values()))

    return {"fwd": (lambda: model.loss(X), torch_loss), "f+b": (lambda: model.loss(X, y), torch_fb)}


TIMERS = {"wall": timeit.default_timer, "cpu": time.process_time}
timer = TIMERS["wall"]  # set once by main() from --timer


def _per_call(step, number):
    return timeit.timeit(step, number=number, timer=timer) / number


def side_by_side(kit, other, repeat, target=0.03):
    """Medians (seconds per call) of kit and other, sampled alternately: kit, other, other, kit, kit, ..."""
    numbers = []
    for step in (kit, other):
        step()  # warm up (first-call allocations, lazy initialisation)
        once = min(timeit.repeat(step, number=1, repeat=3, timer=timer))
        numbers.append(max(1, int(target / max(once, 1e-9))))
    samples = ([], [])
    for r in range(repeat):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            samples[i].append(_per_call((kit, other)[i], numbers[i]))
    return statistics.median(samples[0]), statistics.median(samples[1])


def gemm_limit(dtype, repeat, rng):
    """(conv forward seconds, GEMM seconds) on GEMM_CASE: forward against one product of its im2col shapes."""
    (N, C, H, W), (F, _, HH, WW), stride, pad = CASES[GEMM_CASE][1]
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((N, C, H, W), (F, C, HH, WW), (F,)))
    Q = im2col.output_size(H, HH, pad, stride) * im2col.output_size(W, WW, pad, stride)
    weights, cols = rng.standard_normal((F, C * HH * WW)).astype(dtype), rng.standard_normal((C * HH * WW, N * Q)
                                                                                             ).astype(dtype)
    product = np.empty((F, N * Q), dtype=dtype)
    param = {"stride": stride, "pad": pad}
    return side_by_side(lambda: conv_forward_fast(x, w, b, param), lambda: np.matmul(weights, cols, out=product),
                        repeat)


def winograd_limit(dtype, repeat, rng):
    """(conv forward seconds, seconds of the Winograd products) on GEMM_CASE: the forward pass against its 16
    BLAS products (F, C) @ (C, N*T) over the whole batch (T = 2x2 output tiles per image), the multiplications
    left once the transforms are free."""
    (N, C, H, W), (F, _, HH, WW), stride, pad = CASES[GEMM_CASE][1]
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((N, C, H, W), (F, C, HH, WW), (F,)))
    H_out, W_out = im2col.output_size(H, HH, pad, stride), im2col.output_size(W, WW, pad, stride)
    tiles = ((H_out + 1) // 2) * ((W_out + 1) // 2 + 1)  # with the layer's one dummy tile per row of tiles
    U, V = rng.standard_normal((16, F, C)).astype(dtype), rng.standard_normal((16, C, N * tiles)).astype(dtype)
    product = np.empty((16, F, N * tiles), dtype=dtype)
    param = {"stride": stride, "pad": pad}
    return side_by_side(lambda: conv_forward_fast(x, w, b, param), lambda: np.matmul(U, V, out=product), repeat)


def breakdown(dtype, repeat, rng):
    """{step: seconds for the whole batch} of the conv forward on GEMM_CASE, step by step as the layer runs them
    (one chunk of images timed, times the number of chunks): the im2col path's unfolding, product and
    transpose, and the Winograd path's input transform, 16 products and output transform (with the bias)."""
    from reference_impl import fast_layers as layers  # the private steps, timed one by one
    (N, C, H, W), (F, _, HH, WW), stride, pad = CASES[GEMM_CASE][1]
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    H_out, W_out = im2col.output_size(H, HH, pad, stride), im2col.output_size(W, WW, pad, stride)
    K, Q = C * HH * WW, H_out * W_out

    def whole_batch(step, chunks):
        return min(timeit.repeat(step, number=5, repeat=repeat, timer=timer)) / 5 * len(chunks)

    chunks = layers._image_chunks(N, K * Q * np.dtype(dtype).itemsize)
    n = chunks[0].stop
    weights = rng.standard_normal((F, K + 1)).astype(dtype)
    cols = layers._columns_with_ones(x[:n], HH, WW, pad, stride, K, Q)
    by_filter, out = np.empty((F, n, Q), dtype=dtype), np.empty((n, F, Q), dtype=dtype)
    steps = {"im2col: unfold": whole_batch(lambda: layers._columns_with_ones(x[:n], HH, WW, pad, stride, K, Q),
                                           chunks),
             "im2col: product": whole_batch(lambda: np.matmul(weights, cols, out=by_filter.reshape(F, n * Q)), chunks),
             "im2col: transpose": whole_batch(lambda: np.copyto(out, by_filter.transpose(1, 0, 2)), chunks)}
    if im2col.extension is not None:
        extension = im2col.extension
        T = ((H_out + 1) // 2) * ((W_out + 1) // 2 + 1)  # the forward pass's tiles, one dummy per row of them
        chunks = layers._winograd_chunks(N, C, F, T, np.dtype(dtype).itemsize)
        n = chunks[0].stop
        V, U = extension.winograd_input_planes(x[:n], pad), rng.standard_normal((16, F, C)).astype(dtype)
        M, bias, result = np.matmul(U, V), np.zeros(F, dtype=dtype), np.empty((n, F, H_out, W_out), dtype=dtype)
        steps.update({"winograd: input transform": whole_batch(
                          lambda: extension.winograd_input_planes(x[:n], pad, out=V), chunks),
                      "winograd: 16 products": whole_batch(lambda: np.matmul(U, V, out=M), chunks),
                      "winograd: output transform": whole_batch(
                          lambda: extension.winograd_output_planes(M, bias, n, H_out, W_out, out=result), chunks)})
    return steps


def issue_table(ratios, names):
    """Issue 10's table as Markdown: kit time / PyTorch time per case, phase and dtype ('-' where not measured)."""
    columns = [(d, p) for d in DTYPES for p in PHASES]
    lines = ["| case | " + " | ".join(f"{d} {p}" for d, p in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name in names:
        cells = [f"{ratios[name, d, p]:.2f}" if (name, d, p) in ratios else "-" for d, p in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cold_step(library, name, dtype, rng, batch=None):
    """One forward+backward closure of a case (its batch size replaced by ``batch`` if given), with nothing run
    yet (for the memory measurement)."""
    kind, geometry = CASES[name]
    if kind == "net":
        return _net_steps(batch or geometry, dtype, rng)["f+b"][0 if library == "kit" else 1]
    if batch:
        geometry = ((batch,) + geometry[0][1:],) + geometry[1:]
    if kind == "conv":
        (N, C, H, W), (F, _, HH, WW), stride, pad = geometry
        inputs = [rng.standard_normal(s).astype(dtype) for s in ((N, C, H, W), (F, C, HH, WW), (F,))]
        out_shape = (N, F, im2col.output_size(H, HH, pad, stride), im2col.output_size(W, WW, pad, stride))
        param = {"stride": stride, "pad": pad}
        kit = (lambda: conv_backward_fast(dout, conv_forward_fast(*inputs, param)[1]))
        torch_forward = (lambda *leaves: torch_f.conv2d(*leaves, stride=stride, padding=pad))
    else:
        (N, C, H, W), pool_height, pool_width, stride = geometry
        inputs = [rng.standard_normal((N, C, H, W)).astype(dtype)]
        out_shape = (N, C, 1 + (H - pool_height) // stride, 1 + (W - pool_width) // stride)
        param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
        kit = (lambda: max_pool_backward_fast(dout, max_pool_forward_fast(inputs[0], param)[1]))
        torch_forward = (lambda leaf: torch_f.max_pool2d(leaf, (pool_height, pool_width), stride))
    dout = rng.standard_normal(out_shape).astype(dtype)
    if library == "kit":
        return kit
    leaves = [torch.from_numpy(a).requires_grad_() for a in inputs]
    return lambda: torch.autograd.grad(torch_forward(*leaves), leaves, torch.from_numpy(dout))


def _peak_rss_growth_child(library, name, dtype):
    """In a fresh process: growth of the peak RSS (bytes) over the inputs during the first forward+backward,
    and for the kit also the peak of NumPy's traced allocations (tracemalloc). A one-image run of the same case
    first initialises the libraries (PyTorch's kernels and thread pools, the kit's imports), which would
    otherwise count as growth."""
    _cold_step(library, name, dtype, np.random.default_rng(1), batch=1)()
    step = _cold_step(library, name, dtype, np.random.default_rng(0))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
    before = _status_bytes("VmRSS")
    if library == "kit":
        tracemalloc.start()
    step()
    traced = tracemalloc.get_traced_memory()[1] if library == "kit" else None
    return _status_bytes("VmHWM") - before, traced


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _im2col_bytes(name, dtype):
    """Size of the whole batch's im2col matrix of a conv case (the columns PyTorch's float64 path builds)."""
    kind, geometry = CASES[name]
    if kind == "net":
        (N, C, H, W), (F, _, HH, WW), stride, pad = (geometry, 3, 32, 32), (32, 3, 7, 7), 1, 3
    elif kind == "conv":
        (N, C, H, W), (F, _, HH, WW), stride, pad = geometry
    else:
        return 0
    Q = im2col.output_size(H, HH, pad, stride) * im2col.output_size(W, WW, pad, stride)
    return N * C * HH * WW * Q * np.dtype(dtype).itemsize


def memory_table(names, threads):
    print("\nMemory of the first full-batch forward+backward, fresh subprocess each, after one image, MB: peak RSS growth over the inputs "
          "(MALLOC_MMAP_THRESHOLD_=65536 so freed\nlarge blocks go back to the system), NumPy's traced peak "
          "(tracemalloc) for the kit, and the size of the whole batch's im2col matrix")
    print(f"{'case':36s} {'dtype':8s} {'kit RSS':>8s} {'kit np':>8s} {'torch RSS':>9s} {'im2col':>8s}")
    environment = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    for name in names:
        for dtype in DTYPES:
            growth = {}
            for library in ("kit", "torch"):
                command = [sys.executable, __file__, "--threads", str(threads), "--_memory-child", library, name,
                           dtype]
                growth[library] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                                            env=environment).stdout)
            mb = 1 / 2 ** 20
            print(f"{name:36s} {dtype:8s} {growth['kit'][0] * mb:8.1f} {growth['kit'][1] * mb:8.1f} "
                  f"{growth['torch'][0] * mb:9.1f} {_im2col_bytes(name, dtype) * mb:8.1f}", flush=True)


@contextlib.contextmanager
def threads_limited(threads):
    if torch is not None:
        torch.set_num_threads(threads)
    if threadpool_limits is None:
        yield "unknown BLAS (install threadpoolctl to pin its threads)"
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield "; ".join(f"{p['internal_api']} {p['version']} {p.get('architecture', '')} kernel, "
                        f"{p['num_threads']} threads" for p in threadpool_info() if p["user_api"] == "blas")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=9, help="alternating samples per measurement")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), metavar="NAME", default=list(CASES),
                        help="cases to run (default: all)")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory in subprocesses")
    parser.add_argument("--timer", choices=sorted(TIMERS), default="wall",
                        help="wall clock (default), or process CPU time: steadier on a loaded machine at 1 thread, "
                             "but with several threads it adds up their time (work, not latency)")
    parser.add_argument("--_memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global timer
    timer = TIMERS[args.timer]
    if torch is None:
        sys.exit("PyTorch is not installed: `.venv/bin/pip install torch==2.13.0` (CPU wheel) to compare.")

    with threads_limited(args.threads) as blas:
        if args._memory_child:
            print(json.dumps(_peak_rss_growth_child(*args._memory_child)))
            return
        print(f"Python {platform.python_version()}, NumPy {np.__version__} ({blas}), PyTorch {torch.__version__}; "
              f"im2col backend {im2col.BACKEND}; {args.threads} thread(s); {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f} at start; {args.timer} timer, medians of {args.repeat} alternating samples")
        rng = np.random.default_rng(231)
        header = " ".join(f"{d[5:]} {p:>4s}" for d in DTYPES for p in PHASES)
        print(f"\nkit time / PyTorch time (below 1.0: the kit is faster)\n{'case':36s} {header}")
        kit_ms, ratios = {}, {}
        for name in args.cases:
            kind, geometry = CASES[name]
            cells = []
            for dtype in DTYPES:
                steps = _kit_and_torch(kind, geometry, dtype, rng)
                for phase in PHASES:
                    if phase not in steps:
                        cells.append(f"{'-':>8s}")
                        continue
                    kit, other = side_by_side(*steps[phase], args.repeat)
                    kit_ms[name, dtype, phase] = kit * 1e3
                    ratios[name, dtype, phase] = kit / other
                    cells.append(f"{kit / other:8.2f}")
            print(f"{name:36s} {' '.join(cells)}", flush=True)
        print(f"\nkit times (ms)\n{'case':36s} {header}")
        for name in args.cases:
            cells = [f"{kit_ms[name, d, p]:8.2f}" if (name, d, p) in kit_ms else f"{'-':>8s}"
                     for d in DTYPES for p in PHASES]
            print(f"{name:36s} {' '.join(cells)}")
        print(f"\nGEMM limit on {GEMM_CASE}: conv forward / one BLAS product of the im2col shapes")
        for dtype in DTYPES:
            forward, product = gemm_limit(dtype, args.repeat, rng)
            print(f"  {dtype}: {forward * 1e3:.2f} ms / {product * 1e3:.2f} ms = {forward / product:.2f}")
        print(f"Winograd limit on {GEMM_CASE}: conv forward / its 16 BLAS products (16, F, C) @ (16, C, N*tiles)")
        for dtype in DTYPES:
            forward, product = winograd_limit(dtype, args.repeat, rng)
            print(f"  {dtype}: {forward * 1e3:.2f} ms / {product * 1e3:.2f} ms = {forward / product:.2f}")
        print(f"\nWhere the forward pass's time goes on {GEMM_CASE} (whole batch, ms; the layer takes the Winograd "
              "path when the extension is built)")
        for dtype in DTYPES:
            print(f"  {dtype}: " + ", ".join(f"{step} {seconds * 1e3:.2f}"
                                             for step, seconds in breakdown(dtype, args.repeat, rng).items()))
        print(f"\nIssue 10's table, {args.threads} thread(s), kit time / PyTorch time (Markdown)\n"
              f"{issue_table(ratios, args.cases)}")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        if args.memory:
            memory_table(args.cases, args.threads)


if __name__ == "__main__":
    main()
