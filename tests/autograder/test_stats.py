"""The false-failure budget of statistical checks and its exact bounds: the chi-square and normal quantiles
agree with SciPy, the bounds hold their probability, and no assignment makes more statistical tests in one
grading than the budget was divided among."""
from __future__ import annotations

import math

import numpy as np
import pytest

import assignments
from autograder import cases, stats
from autograder.checks import NormalSampleCheck

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("df", [1, 2, 7, 215, 499, 1199, 25_599])
@pytest.mark.parametrize("tail", [stats.TEST_ALPHA / 2, 1e-3, 0.2])
def test_chi_square_quantiles_agree_with_scipy(df, tail):
    lo, hi = stats.chi2_quantiles(df, tail)
    assert lo == pytest.approx(scipy_stats.chi2.ppf(tail, df), rel=1e-9)
    assert hi == pytest.approx(scipy_stats.chi2.isf(tail, df), rel=1e-9)


@pytest.mark.parametrize("x, df", [(0.5, 1), (3.0, 4), (180.0, 215), (260.0, 215), (25_000.0, 25_599)])
def test_chi_square_tails_agree_with_scipy(x, df):
    assert stats.chi2_cdf(x, df) == pytest.approx(scipy_stats.chi2.cdf(x, df), rel=1e-9)
    assert stats.chi2_sf(x, df) == pytest.approx(scipy_stats.chi2.sf(x, df), rel=1e-9)


@pytest.mark.parametrize("alpha", [stats.TEST_ALPHA, 1e-3, 0.05])
def test_normal_quantile_agrees_with_scipy(alpha):
    assert stats.normal_two_sided(alpha) == pytest.approx(scipy_stats.norm.isf(alpha / 2), rel=1e-10)


def test_sample_bounds_are_the_chi_square_and_normal_bounds_of_the_actual_size():
    n, std = 216, 0.02
    bounds = stats.normal_sample_bounds(n, std)
    q = scipy_stats.chi2.isf(stats.TEST_ALPHA / 2, n - 1)
    assert bounds.std_high == pytest.approx(std * math.sqrt(q / (n - 1)), rel=1e-9)
    assert bounds.mean_bound == pytest.approx(scipy_stats.norm.isf(stats.TEST_ALPHA / 2) * std / math.sqrt(n),
                                              rel=1e-9)
    bigger = stats.normal_sample_bounds(25_600, std)
    assert bounds.std_low < bigger.std_low < std < bigger.std_high < bounds.std_high


def test_the_per_test_level_times_the_test_count_is_the_per_grading_budget():
    assert stats.TEST_ALPHA * stats.MAX_STATISTICAL_TESTS <= stats.FALSE_FAILURE_PER_GRADING * (1 + 1e-12)
    assert stats.FALSE_FAILURE_PER_GRADING <= 1e-6


@pytest.mark.parametrize("name", sorted(assignments.ASSIGNMENTS))
def test_no_grading_makes_more_statistical_tests_than_the_budget_is_divided_among(name):
    """Each NormalSampleCheck makes two tests (std, mean) at TEST_ALPHA; the union bound over one grading's tests
    holds only while their number stays within MAX_STATISTICAL_TESTS."""
    record = assignments.get(name)
    count = 0
    for graded in record.graded_items:
        if not cases.runs_in_worker(record, graded.name):
            continue
        for case in cases.cases_for(record, graded.name):
            checks = cases.prepare(record, case, 3).checks
            count += 2 * sum(isinstance(check, NormalSampleCheck) for check in checks)
            assert all(check.alpha <= stats.TEST_ALPHA for check in checks if isinstance(check, NormalSampleCheck))
    assert count <= stats.MAX_STATISTICAL_TESTS, f"{name}: {count} statistical tests in one grading"


@pytest.mark.parametrize("call, words", [(lambda: stats.chi2_quantiles(0, 0.01), "df >= 1"),
                                         (lambda: stats.chi2_quantiles(5, 0.7), "tail"),
                                         (lambda: stats.normal_two_sided(0.0), "alpha"),
                                         (lambda: stats.normal_sample_bounds(1, 1.0), "n >= 2"),
                                         (lambda: stats.normal_sample_bounds(10, -1.0), "positive finite std")])
def test_bad_arguments_are_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_the_bounds_hold_their_probability_at_a_level_a_simulation_can_see():
    """At alpha = 0.01 each test fails about 1% of correct samples: 40 000 samples of 216 entries (seeded) put the
    observed rate within a few standard errors of it, which a wrong quantile (say the normal approximation's
    bounds on the std at this size) would not."""
    n, std, alpha, trials = 216, 0.02, 0.01, 40_000
    bounds = stats.normal_sample_bounds(n, std, alpha)
    samples = np.random.default_rng(20261202).normal(0.0, std, size=(trials, n))
    spread, mean = samples.std(axis=1, ddof=1), samples.mean(axis=1)
    for failures in (~((bounds.std_low < spread) & (spread < bounds.std_high)), ~(np.abs(mean) < bounds.mean_bound)):
        rate = failures.mean()
        assert abs(rate - alpha) < 5 * math.sqrt(alpha * (1 - alpha) / trials), rate
