"""Confidence intervals behave as a strategist would rely on them."""

from __future__ import annotations

import numpy as np

from experiments.stats import bootstrap_mean_ci, paired_difference_ci, ratio_of_sums_ci


def test_bootstrap_ci_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(123)
    truth = 3.0
    hits = 0
    trials = 200
    for t in range(trials):
        sample = rng.gamma(2.0, truth / 2.0, size=400)  # skewed, like profits
        ci = bootstrap_mean_ci(sample, n_boot=400, seed=t)
        hits += ci.ci_low <= truth <= ci.ci_high
    assert 0.88 <= hits / trials <= 0.99


def test_same_seed_same_interval() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    assert bootstrap_mean_ci(x, seed=5) == bootstrap_mean_ci(x, seed=5)


def test_policy_against_itself_is_exactly_zero() -> None:
    x = np.random.default_rng(1).normal(size=500)
    d = paired_difference_ci(x, x.copy())
    assert (d.mean, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0)


def test_paired_interval_is_tighter_than_independent_ones() -> None:
    rng = np.random.default_rng(2)
    luck = rng.normal(0, 10, 2000)  # common random numbers: shared customer luck
    a, b = luck + 1.0 + rng.normal(0, 0.5, 2000), luck + rng.normal(0, 0.5, 2000)
    d = paired_difference_ci(a, b)
    assert d.ci_low > 0.8 and d.ci_high < 1.2
    ia = bootstrap_mean_ci(a)
    assert (ia.ci_high - ia.ci_low) > 5 * (d.ci_high - d.ci_low)


def test_ratio_of_sums() -> None:
    num = np.array([2.0, 4.0, 6.0, 8.0])
    den = np.array([1.0, 2.0, 3.0, 4.0])
    r = ratio_of_sums_ci(num, den)
    assert r.mean == 2.0 and r.ci_low == 2.0 and r.ci_high == 2.0
