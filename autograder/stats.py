"""How sure a statistical check must be: the false-failure budget of one grading, and the exact bounds that a
sample of independent N(0, std^2) draws stays within.

A check on random values (a weight initialisation the student's code draws unseeded) can fail correct code by
chance. The budget: no grading (one submission of one assignment) fails correct code by chance more than once in
``1 / FALSE_FAILURE_PER_GRADING`` gradings. One grading makes at most ``MAX_STATISTICAL_TESTS`` such tests (a test
counts them in every assignment's cases), so each test may fail a correct sample with probability ``TEST_ALPHA``
and, by the union bound, the grading fails with probability at most ``FALSE_FAILURE_PER_GRADING``.

The bounds are exact for normal samples, at the sample's own size: the sample variance of ``n`` draws times
``(n - 1) / std^2`` is chi-square with ``n - 1`` degrees of freedom, and the sample mean is N(0, std^2 / n). The
chi-square and normal quantiles are computed here (the regularised incomplete gamma function and ``math.erfc``),
so the grader needs nothing beyond NumPy; tests compare them with SciPy. ``bench/bench_init_check.py`` measures
the false-failure rate by simulation.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

FALSE_FAILURE_PER_GRADING = 1e-6
MAX_STATISTICAL_TESTS = 40
TEST_ALPHA = FALSE_FAILURE_PER_GRADING / MAX_STATISTICAL_TESTS
_TINY = 1e-300
_ITERATIONS = 1_000_000


def _log_prefactor(a: float, x: float) -> float:
    return a * math.log(x) - x - math.lgamma(a)


def _gamma_series(a: float, x: float) -> float:
    """P(a, x) by its power series (accurate for x < a + 1)."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(_ITERATIONS):
        denominator += 1.0
        term *= x / denominator
        total += term
        if term < total * 1e-17:
            break
    return math.exp(_log_prefactor(a, x)) * total


def _gamma_continued_fraction(a: float, x: float) -> float:
    """Q(a, x) = 1 - P(a, x) by its continued fraction, evaluated with Lentz's method (accurate for x > a + 1)."""
    b = x + 1.0 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(_log_prefactor(a, x)) * h


def chi2_cdf(x: float, df: int) -> float:
    """P(X <= x) for X chi-square with ``df`` degrees of freedom (accurate in the lower tail)."""
    if x <= 0:
        return 0.0
    a, half = df / 2.0, x / 2.0
    return _gamma_series(a, half) if half < a + 1 else 1.0 - _gamma_continued_fraction(a, half)


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for X chi-square with ``df`` degrees of freedom (accurate in the upper tail)."""
    if x <= 0:
        return 1.0
    a, half = df / 2.0, x / 2.0
    return 1.0 - _gamma_series(a, half) if half < a + 1 else _gamma_continued_fraction(a, half)


def _bisect(decreasing_gap, low: float, high: float) -> float:
    """The root of a function that is positive at ``low`` and negative at ``high``, to ~1e-13 relative."""
    for _ in range(400):
        middle = 0.5 * (low + high)
        if decreasing_gap(middle) > 0:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(abs(high), 1e-300):
            break
    return 0.5 * (low + high)


@functools.lru_cache(maxsize=256)
def chi2_quantiles(df: int, tail: float) -> tuple[float, float]:
    """(lo, hi) with P(X < lo) = P(X > hi) = ``tail`` for X chi-square with ``df`` >= 1 degrees of freedom."""
    if not (isinstance(df, int) and df >= 1) or not 0 < tail < 0.5:
        raise ValueError(f"chi-square quantiles need df >= 1 and 0 < tail < 0.5; got df={df!r}, tail={tail!r}")
    top = df + 60.0 * math.sqrt(2.0 * df) + 400.0  # far beyond any tail probability above 1e-300
    lo = _bisect(lambda x: tail - chi2_cdf(x, df), 0.0, float(df))
    hi = _bisect(lambda x: chi2_sf(x, df) - tail, float(df), top)
    return lo, hi


@functools.lru_cache(maxsize=64)
def normal_two_sided(alpha: float) -> float:
    """z with P(|Z| > z) = ``alpha`` for a standard normal Z."""
    if not 0 < alpha < 1:
        raise ValueError(f"a two-sided normal quantile needs 0 < alpha < 1; got {alpha!r}")
    return _bisect(lambda z: math.erfc(z / math.sqrt(2.0)) - alpha, 0.0, 40.0)


@dataclass(frozen=True)
class SampleBounds:
    """Where ``n`` independent N(0, std^2) draws land, each with probability ``1 - alpha``:
    sample std (ddof 1) in (std_low, std_high), and |sample mean| below mean_bound."""

    n: int
    std: float
    alpha: float
    std_low: float
    std_high: float
    mean_bound: float


@functools.lru_cache(maxsize=256)
def normal_sample_bounds(n: int, std: float, alpha: float = TEST_ALPHA) -> SampleBounds:
    """The exact two-sided bounds, each test at level ``alpha``, for a sample of ``n`` >= 2 N(0, std^2) draws.

    Sample variance: ``(n - 1) s^2 / std^2`` is chi-square(n - 1), so ``s`` lies in
    ``std * sqrt(q / (n - 1))`` for the chi-square quantiles q at ``alpha / 2`` and ``1 - alpha / 2``.
    Sample mean: N(0, std^2 / n), so ``|mean| < z * std / sqrt(n)`` for the two-sided normal quantile z.
    """
    if not (isinstance(n, int) and n >= 2) or not (std > 0 and math.isfinite(std)):
        raise ValueError(f"sample bounds need n >= 2 entries and a positive finite std; got n={n!r}, std={std!r}")
    lo, hi = chi2_quantiles(n - 1, alpha / 2.0)
    return SampleBounds(n, std, alpha, std * math.sqrt(lo / (n - 1)), std * math.sqrt(hi / (n - 1)),
                        normal_two_sided(alpha) * std / math.sqrt(n))
