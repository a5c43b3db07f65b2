"""Confidence intervals for policy comparisons: bootstrap of means and of paired differences.

Evaluation runs every policy on the same simulated customers with common random numbers, so
policy A's and policy B's profits for customer ``i`` are paired; the paired difference has a
much tighter interval than two independent ones.

>>> rng = np.random.default_rng(0)
>>> x = rng.normal(10.0, 1.0, 5000)
>>> ci = bootstrap_mean_ci(x, seed=1)
>>> ci.ci_low < 10.0 < ci.ci_high
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A mean with a percentile-bootstrap confidence interval.

    Attributes:
        mean: Sample mean.
        ci_low: Lower end of the interval.
        ci_high: Upper end of the interval.
        n: Number of observations.
    """

    mean: float
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict[str, float]:
        """Plain-data view for JSON."""
        return asdict(self)

    @property
    def excludes_zero(self) -> bool:
        """Whether the whole interval lies on one side of zero."""
        return self.ci_low > 0 or self.ci_high < 0


def bootstrap_mean_ci(
    values: np.ndarray,
    *,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    chunk: int = 250,
) -> Estimate:
    """Percentile bootstrap interval of the mean of ``values``.

    Args:
        values: One number per independent unit (customer).
        level: Confidence level.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling (same seed, same interval).
        chunk: Resamples drawn at once (bounds memory at ``chunk * len(values)`` indices).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = len(x)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    if n == 1 or np.all(x == x[0]):
        return Estimate(float(x[0]), float(x[0]), float(x[0]), n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n]))
    means = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(k, n))
        means[start : start + k] = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return Estimate(float(x.mean()), float(lo), float(hi), n)


def paired_difference_ci(
    a: np.ndarray, b: np.ndarray, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> Estimate:
    """Bootstrap interval of ``mean(a - b)`` for paired observations (same customers, same luck).

    A policy compared with itself gives exactly zero with a zero-width interval.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    return bootstrap_mean_ci(a - b, level=level, n_boot=n_boot, seed=seed)


def ratio_of_sums_ci(
    num: np.ndarray, den: np.ndarray, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> Estimate:
    """Bootstrap interval of ``sum(num) / sum(den)`` resampling units (e.g. return on incentive)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    n = len(num)
    total = den.sum()
    point = float(num.sum() / total) if total else float("nan")
    if n < 2 or not total:
        return Estimate(point, point, point, n)
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, 1]))
    ratios = np.empty(n_boot)
    for start in range(0, n_boot, 250):
        k = min(250, n_boot - start)
        idx = rng.integers(0, n, size=(k, n))
        d = den[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios[start : start + k] = num[idx].sum(axis=1) / d
    alpha = (1.0 - level) / 2.0
    lo, hi = np.nanquantile(ratios, [alpha, 1.0 - alpha])
    return Estimate(point, float(lo), float(hi), n)
