"""Shared pieces of the framework tests: the tiny data set and statistical bounds for checking a random
initialisation. The NumPy reference network they compare the frameworks with is ``frameworks.numpy_net``."""
import math

import pytest

from reference_impl.tiny_cifar import make_tiny_cifar10

# Every statistical check in the framework tests is allowed this probability of failing for a correct
# initialiser; there are fewer than ten such checks, so a correct suite fails less than once in a million runs.
FAILURE_PROBABILITY_PER_CHECK = 1e-7


@pytest.fixture(scope="session")
def tiny_cifar_dir(tmp_path_factory):
    """The tiny CIFAR-format data set, written once per test session."""
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny_cifar"))


def gaussian_variance_ratio_bounds(count, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Interval for mean(w**2) / sigma**2 of ``count`` independent N(0, sigma**2) draws.

    count * mean(w**2) / sigma**2 is chi-square with ``count`` degrees of freedom; by Laurent and Massart
    (2000, Lemma 1), P(X - n >= 2 sqrt(n t) + 2 t) <= exp(-t) and P(n - X >= 2 sqrt(n t)) <= exp(-t). With
    t = ln(2 / failure_probability) the ratio leaves the interval with probability at most failure_probability.
    """
    t = math.log(2.0 / failure_probability)
    return 1.0 - 2.0 * math.sqrt(t / count), 1.0 + 2.0 * math.sqrt(t / count) + 2.0 * t / count


def gaussian_mean_bound(count, sigma, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Bound on |mean(w)| of ``count`` N(0, sigma**2) draws: P(|Z| >= z) <= 2 exp(-z**2 / 2) for Z ~ N(0, 1)."""
    z = math.sqrt(2.0 * math.log(2.0 / failure_probability))
    return z * sigma / math.sqrt(count)


def bounded_variance_ratio_bounds(count, square_max_ratio, failure_probability=FAILURE_PROBABILITY_PER_CHECK):
    """Interval for mean(w**2) / sigma**2 when every w**2 lies in [0, square_max_ratio * sigma**2] (Hoeffding).

    For draws of a truncated normal (Keras' "he_normal" cuts at two of its underlying standard deviations).
    """
    epsilon = square_max_ratio * math.sqrt(math.log(2.0 / failure_probability) / (2.0 * count))
    return 1.0 - epsilon, 1.0 + epsilon


@pytest.fixture
def init_bounds():
    """The three bound functions, for the initialisation tests."""
    return gaussian_variance_ratio_bounds, gaussian_mean_bound, bounded_variance_ratio_bounds
