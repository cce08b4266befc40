"""How long the notebook's training cells take, with and without the compiled im2col, measured side by side.

Usage (from the project root):  .venv/bin/python bench/bench_notebook_cells.py [--steps K]

For each training cell of the notebook (same network, batch size, update rule and data shapes as the cell) it
times K gradient steps of the provided ``Solver`` and one accuracy check, on random float32 data of the real
CIFAR-10 shape (3, 32, 32): the content of the images does not change the time. The cell's time is then
    iterations x (median step time) + accuracy checks x (time to score the checked images),
which is what ``Solver.train`` does (it scores 1000 training and all validation images at the start and after
every epoch). Each backend runs in its own process, because the backend is chosen when ``im2col`` is imported
(``CONVKIT_NO_CYTHON=1`` selects NumPy). BLAS uses its default thread count (all cores) unless ``--threads``
is given. On a busy machine wall-clock times are inflated by other jobs and waiting BLAS threads burn CPU time;
``--threads 1`` then gives the robust figure (one thread's CPU time is its time on an idle core).
The figures quoted in the notebook come from this script; re-run it after changing the fast layers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class TrainingCell:
    """One training cell of the notebook: its network, Solver settings and data sizes."""

    name: str
    net: dict  # ThreeLayerConvNet keyword arguments
    num_training: int
    num_validation: int
    batch_size: int
    num_epochs: int
    num_train_samples: int = 1000  # Solver's default number of training images scored per check


# The templates/convnets/ConvolutionalNetworks.py cells, outside small-data mode (the experiment: the reference
# solution's settings; a student's own search takes as long as they choose).
CELLS = (
    TrainingCell("overfit 100 images (15 epochs)", dict(num_filters=32, filter_size=7, weight_scale=1e-2),
                 num_training=100, num_validation=1000, batch_size=50, num_epochs=15),
    TrainingCell("one epoch on 49,000 images", dict(weight_scale=1e-3, hidden_dim=500, reg=1e-3),
                 num_training=49000, num_validation=1000, batch_size=50, num_epochs=1),
    TrainingCell("experiment, reference settings (6 epochs)",
                 dict(num_filters=64, filter_size=3, hidden_dim=500, weight_scale=1e-2, reg=1e-3),
                 num_training=49000, num_validation=1000, batch_size=100, num_epochs=6),
)


def iterations_and_checks(cell: TrainingCell) -> tuple[int, int]:
    """Gradient steps and accuracy checks of ``Solver.train`` for this cell (same formula as the Solver)."""
    per_epoch = max(cell.num_training // cell.batch_size, 1)
    iterations = per_epoch * cell.num_epochs
    checks = 1 + cell.num_epochs  # at the first iteration and at every epoch end (the last one is an epoch end)
    return iterations, checks


def measure_in_this_process(steps: int) -> dict:
    """Time every cell with the backend this process imported; return the figures as a dict."""
    import numpy as np

    from reference_impl import im2col
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.solver import Solver

    rng = np.random.default_rng(0)
    results = {"backend": im2col.BACKEND, "cells": []}
    for cell in CELLS:
        # Enough distinct images for the steps and for one accuracy check; the time does not depend on N.
        scored = min(cell.num_train_samples, cell.num_training)
        n = max(cell.batch_size, scored)
        data = {"X_train": rng.standard_normal((n, 3, 32, 32), dtype=np.float32),
                "y_train": rng.integers(0, 10, n),
                "X_val": rng.standard_normal((cell.num_validation, 3, 32, 32), dtype=np.float32),
                "y_val": rng.integers(0, 10, cell.num_validation)}
        np.random.seed(0)
        solver = Solver(ThreeLayerConvNet(**cell.net), data, batch_size=cell.batch_size, update_rule="adam",
                        optim_config={"learning_rate": 1e-3}, verbose=False)
        solver._step()  # warm-up: first-touch allocations, BLAS thread start
        step_times, step_cpu = [], []
        for _ in range(steps):
            start, start_cpu = time.perf_counter(), time.process_time()
            solver._step()
            step_times.append(time.perf_counter() - start)
            step_cpu.append(time.process_time() - start_cpu)
        start, start_cpu = time.perf_counter(), time.process_time()
        solver.check_accuracy(data["X_train"][:scored], data["y_train"][:scored])
        solver.check_accuracy(data["X_val"], data["y_val"])
        check_time, check_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        iterations, checks = iterations_and_checks(cell)
        step, cpu = statistics.median(step_times), statistics.median(step_cpu)
        results["cells"].append({"cell": asdict(cell), "iterations": iterations, "checks": checks,
                                 "step_s": step, "check_s": check_time,
                                 "estimate_s": iterations * step + checks * check_time,
                                 "estimate_cpu_s": iterations * cpu + checks * check_cpu})
    return results


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_backend(no_cython: bool, steps: int, threads: int | None) -> dict:
    env = dict(os.environ)
    env.pop("CONVKIT_NO_CYTHON", None)
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    if no_cython:
        env["CONVKIT_NO_CYTHON"] = "1"
    completed = subprocess.run([sys.executable, __file__, "--worker", "--steps", str(steps)], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def minutes(seconds: float) -> str:
    return f"{seconds / 60:6.1f} min" if seconds >= 60 else f"{seconds:6.1f} s  "


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed gradient steps per cell (default 10)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the library's own choice, all cores). With --threads 1 the "
                             "CPU column is the time on one idle core, even on a busy machine")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    if args.worker:
        print(json.dumps(measure_in_this_process(args.steps)))
        return 0
    load_before = os.getloadavg()
    compiled, fallback = run_backend(False, args.steps, args.threads), run_backend(True, args.steps, args.threads)
    load_after = os.getloadavg()
    if compiled["backend"] != "cython":
        print("warning: the compiled im2col is not built (make setup builds it); both columns use NumPy")
    print(f"{os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"{args.steps} timed steps per cell; BLAS threads: {args.threads or 'default'}")
    fast_name = compiled["backend"]
    print(f"{'cell':<44}{'iterations':>11}{'step ' + fast_name:>14}{'step numpy':>12}"
          f"{'cell ' + fast_name:>13}{'cell numpy':>13}{'numpy/' + fast_name:>14}"
          f"{'CPU ' + fast_name:>13}{'CPU numpy':>13}")
    for fast, slow in zip(compiled["cells"], fallback["cells"]):
        print(f"{fast['cell']['name']:<44}{fast['iterations']:>11}{fast['step_s'] * 1000:>11.0f} ms"
              f"{slow['step_s'] * 1000:>9.0f} ms{minutes(fast['estimate_s']):>13}{minutes(slow['estimate_s']):>13}"
              f"{slow['estimate_s'] / fast['estimate_s']:>13.1f}x"
              f"{minutes(fast['estimate_cpu_s']):>13}{minutes(slow['estimate_cpu_s']):>13}")
    print("cell = wall-clock estimate (iterations x median step + accuracy checks); CPU = the same from process "
          "CPU time, summed over BLAS threads: on an otherwise idle machine with n cores the wall-clock time lies "
          "between CPU / n and CPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
