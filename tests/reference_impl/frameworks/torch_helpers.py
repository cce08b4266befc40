"""Helpers shared by the PyTorch reference tests: statistical bounds and parameter conversion."""
import numpy as np
from scipy import stats

# Every statistical test in these files may fail a correct implementation with at most this probability.
FALSE_ALARM = 1e-6


def std_ratio_bounds(num_samples, num_checks):
    """Interval that the ratio (sample std about a known zero mean) / (true std) leaves with probability at
    most FALSE_ALARM / num_checks, for num_samples independent normal draws.

    sum(w**2) / sigma**2 is chi-squared with num_samples degrees of freedom; split the allowed probability
    between its two tails and take square roots of the quantiles divided by num_samples.
    """
    alpha = FALSE_ALARM / num_checks
    low = stats.chi2.ppf(alpha / 2, num_samples) / num_samples
    high = stats.chi2.isf(alpha / 2, num_samples) / num_samples
    return float(np.sqrt(low)), float(np.sqrt(high))


def mean_bound(num_samples, num_checks):
    """|sample mean| / true std exceeds this with probability at most FALSE_ALARM / num_checks."""
    return float(stats.norm.isf(FALSE_ALARM / num_checks / 2) / np.sqrt(num_samples))


def to_numpy(tensors, dtype=np.float64):
    """Detached NumPy copies of a list of tensors."""
    return [t.detach().cpu().numpy().astype(dtype) for t in tensors]
