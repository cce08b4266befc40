"""False failures of the initial-weights checks, measured by simulation (a measurement, never a test).

    .venv/bin/python bench/bench_init_check.py                 # about a minute of CPU
    .venv/bin/python bench/bench_init_check.py --gradings 200000 --calibration 200000

It draws the convnets ThreeLayerConvNet init case's three weight matrices as a correct, unseeded initialisation
does (``weight_scale * np.random.randn``: W1 (8, 3, 3, 3), W2 (512, 50), W3 (50, 10)) and reports, per grading:

1. the old check (|std / weight_scale - 1| < 0.15 and |mean| < weight_scale / 4): how often it failed correct code;
2. the shared ``checks.NormalSampleCheck`` at the production level (``stats.TEST_ALPHA`` per test, two tests per
   weight): failures observed, with the 95% upper bound that the number of gradings allows, and the bound by
   construction (the union bound over the grading's tests);
3. calibration: the same bounds at levels a simulation can resolve (1e-2, 1e-3, 1e-4), observed against nominal,
   which is what shows the chi-square and normal quantiles are right at the actual sample sizes;
4. power: how often a 2x or 0.5x std is caught.

The decisions are made with the bounds the check itself uses (``stats.normal_sample_bounds``), vectorised; a
sample of them is passed through ``NormalSampleCheck.evaluate`` too, and must decide the same.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import stats  # noqa: E402
from autograder.checks import NormalSampleCheck, Output  # noqa: E402

WEIGHT_SCALE = 0.02
SHAPES = {"W1": (8, 3, 3, 3), "W2": (8 * 8 * 8, 50), "W3": (50, 10)}  # the init case: 3x16x16 input, 8 filters
CHUNK_ENTRIES = 4_000_000


def _chunks(total: int, n: int):
    rows = max(1, CHUNK_ENTRIES // n)
    for start in range(0, total, rows):
        yield min(rows, total - start)


def _stats_of(rng, gradings: int, n: int, std: float):
    """(sample std ddof=1, sample std ddof=0, mean) of ``gradings`` samples of n N(0, std^2) draws."""
    spread1, spread0, means = [], [], []
    for rows in _chunks(gradings, n):
        sample = rng.standard_normal((rows, n)) * std
        means.append(sample.mean(axis=1))
        spread1.append(sample.std(axis=1, ddof=1))
        spread0.append(sample.std(axis=1))
    return np.concatenate(spread1), np.concatenate(spread0), np.concatenate(means)


def _fails(spread, mean, n, alpha):
    bounds = stats.normal_sample_bounds(n, WEIGHT_SCALE, alpha)
    return ~((bounds.std_low < spread) & (spread < bounds.std_high)) | ~(np.abs(mean) < bounds.mean_bound)


def _upper95(failures: int, trials: int) -> float:
    """Exact one-sided 95% upper bound of a binomial rate (Clopper-Pearson; 3/trials for zero failures)."""
    if failures == 0:
        return -math.log(0.05) / trials
    low, high = failures / trials, 1.0
    for _ in range(100):  # bisection on P(X <= failures | p) = 0.05
        p = 0.5 * (low + high)
        term, total = (1 - p) ** trials, 0.0
        for k in range(failures + 1):
            total += term
            term *= (trials - k) / (k + 1) * p / (1 - p)
        low, high = (p, high) if total > 0.05 else (low, p)
    return high


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gradings", type=int, default=20_000, help="simulated gradings of the init case")
    parser.add_argument("--calibration", type=int, default=300_000, help="samples per calibration level (W1 size)")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    started = time.process_time()
    per_weight = {name: _stats_of(rng, args.gradings, int(np.prod(shape)), WEIGHT_SCALE)
                  for name, shape in SHAPES.items()}

    old = np.zeros(args.gradings, dtype=bool)
    new = np.zeros(args.gradings, dtype=bool)
    for name, (spread1, spread0, mean) in per_weight.items():
        n = int(np.prod(SHAPES[name]))
        old |= ~((np.abs(spread0 / WEIGHT_SCALE - 1) < 0.15) & (np.abs(mean) < WEIGHT_SCALE / 4))
        new |= _fails(spread1, mean, n, stats.TEST_ALPHA)
    print(f"convnets ThreeLayerConvNet init case, correct unseeded initialisation, {args.gradings} simulated "
          f"gradings (W1 {SHAPES['W1']}, W2 {SHAPES['W2']}, W3 {SHAPES['W3']}, weight_scale {WEIGHT_SCALE}):")
    rate = old.mean()
    print(f"  old check (|std/ws - 1| < 0.15, |mean| < ws/4): {int(old.sum())} false failures = {rate:.3%} per "
          f"grading (95% upper bound {_upper95(int(old.sum()), args.gradings):.3%})")
    print(f"  NormalSampleCheck at alpha {stats.TEST_ALPHA:.2g} per test: {int(new.sum())} false failures "
          f"(95% upper bound {_upper95(int(new.sum()), args.gradings):.2g} per grading; by construction at most "
          f"{6 * stats.TEST_ALPHA:.2g} for these 6 tests, and {stats.FALSE_FAILURE_PER_GRADING:.0e} for any "
          f"grading of at most {stats.MAX_STATISTICAL_TESTS} tests)")

    # The check's own evaluate() decides as the vectorised bounds do (a sample of the simulated gradings).
    check = {name: NormalSampleCheck(name, WEIGHT_SCALE, name, shape) for name, shape in SHAPES.items()}
    agree = 0
    for _ in range(200):
        draws = {name: rng.standard_normal(shape) * WEIGHT_SCALE for name, shape in SHAPES.items()}
        for name, sample in draws.items():
            n = sample.size
            vectorised = bool(_fails(np.array([sample.std(ddof=1)]), np.array([sample.mean()]), n,
                                     stats.TEST_ALPHA)[0])
            verdict = check[name].evaluate({name: Output(sample, {"dtype": "float64"})})
            agree += verdict.ok != vectorised
    print(f"  evaluate() agrees with the vectorised decision on {agree} of 600 samples")

    n1 = int(np.prod(SHAPES["W1"]))
    spread1, _, mean = _stats_of(rng, args.calibration, n1, WEIGHT_SCALE)
    print(f"calibration on {args.calibration} correct samples of {n1} entries (two tests each; nominal rate "
          f"1 - (1 - alpha)^2):")
    for alpha in (1e-2, 1e-3, 1e-4):
        observed = _fails(spread1, mean, n1, alpha).mean()
        nominal = 1 - (1 - alpha) ** 2
        error = math.sqrt(nominal * (1 - nominal) / args.calibration)
        print(f"  alpha {alpha:.0e}: observed {observed:.3e}, nominal {nominal:.3e} (+- {error:.1e} standard error)")

    trials = 2000
    for factor in (2.0, 0.5):
        caught = []
        for name, shape in SHAPES.items():
            n = int(np.prod(shape))
            s1, _, m = _stats_of(rng, trials, n, factor * WEIGHT_SCALE)
            caught.append(_fails(s1, m, n, stats.TEST_ALPHA).mean())
        print(f"power: std {factor:g} x weight_scale caught in " +
              ", ".join(f"{name} {share:.2%}" for name, share in zip(SHAPES, caught)) + f" of {trials} samples")
    print(f"({time.process_time() - started:.1f} s of CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
