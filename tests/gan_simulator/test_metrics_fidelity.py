"""Fidelity metrics: known answers on hand-made sequences, small vs large distances."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_population import structural_customers

from gan_simulator.metrics.fidelity import (
    compare_fidelity,
    count_distribution,
    inter_purchase_weeks,
    purchase_autocorrelation,
    repeat_purchase_counts,
    spend_per_transaction,
    total_variation,
    weekly_purchase_rate,
)


def _behaviour(purchased: list[list[int]], spend: float = 10.0) -> np.ndarray:
    p = np.asarray(purchased, dtype=np.float32)
    return np.stack([p, p * 2, p * spend], axis=-1)


def test_autocorrelation_of_known_sequences() -> None:
    alternating = np.tile([1.0, 0.0], 30)[None, :]
    acf = purchase_autocorrelation(alternating, np.ones_like(alternating, bool), max_lag=4)
    np.testing.assert_allclose(acf, [-1, 1, -1, 1], atol=1e-12)
    period3 = np.tile([1.0, 0.0, 0.0], 300)[None, :]  # population value -1/2 at lags 1, 2
    acf3 = purchase_autocorrelation(period3, np.ones_like(period3, bool), max_lag=3)
    np.testing.assert_allclose(acf3, [-0.5, -0.5, 1.0], atol=1e-3)


def test_autocorrelation_ignores_unobserved_weeks() -> None:
    x = np.tile([1.0, 0.0], 30)[None, :]
    mask = np.ones_like(x, bool)
    x_noisy = x.copy()
    x_noisy[0, :10] = 1.0  # garbage before the customer existed...
    mask[0, :10] = False  # ...is masked out
    ref = purchase_autocorrelation(x[:, 10:], mask[:, 10:], 2)
    np.testing.assert_allclose(purchase_autocorrelation(x_noisy, mask, 2), ref)


def test_customer_level_distributions_on_a_hand_made_panel() -> None:
    b = _behaviour([[1, 0, 1, 1, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1]])
    mask = np.array([[1] * 6, [0] + [1] * 5, [0, 0] + [1] * 4], dtype=bool)
    np.testing.assert_array_equal(repeat_purchase_counts(b, mask), [2, 0, 1])
    np.testing.assert_allclose(
        count_distribution(repeat_purchase_counts(b, mask), cap=2), [1 / 3] * 3
    )
    # gaps stay within one customer: 2, 1 for the first, 3 for the third
    assert sorted(inter_purchase_weeks(b, mask).tolist()) == [1, 2, 3]
    np.testing.assert_allclose(spend_per_transaction(b, mask), 5.0)  # $10 over 2 transactions
    np.testing.assert_allclose(
        weekly_purchase_rate(b, mask), [1 / 3, 1 / 3, 2 / 3, 1 / 3, 0, 1 / 3]
    )


def test_total_variation_bounds() -> None:
    assert total_variation([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0


@pytest.fixture(scope="module")
def populations() -> dict[str, dict[str, np.ndarray]]:
    return {
        "a": structural_customers(1500, 30, seed=1),
        "b": structural_customers(1500, 30, seed=2),
        "busy": structural_customers(1500, 30, seed=3, rate_scale=6.0),
    }


def test_same_process_is_close_and_a_different_one_is_far(populations) -> None:
    a, b, busy = populations["a"], populations["b"], populations["busy"]
    same = compare_fidelity(a["behaviour"], a["mask"], b["behaviour"], b["mask"])
    diff = compare_fidelity(a["behaviour"], a["mask"], busy["behaviour"], busy["mask"])
    assert same.repeat_tv < 0.05
    assert diff.repeat_tv > 3 * same.repeat_tv and diff.repeat_tv > 0.15
    assert diff.gaps_distance["wasserstein"] > 2 * same.gaps_distance["wasserstein"]
    assert diff.weekly_mae > 3 * same.weekly_mae
    summary = same.to_dict()
    assert summary["repeat_purchases"]["buckets"][-1] == "7+"
    assert abs(sum(summary["repeat_purchases"]["real"]) - 1) < 1e-9
