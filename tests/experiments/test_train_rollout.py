"""The rollout helper behind periodic evaluation: common random numbers and KPI arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from agents.heuristics import NoActionPolicy
from experiments.rollout import compare, rollout
from gan_simulator.errors import EnvArgumentError

ENV = {"horizon": 10, "window": 4}


def test_same_seed_same_customers_and_luck():
    a = rollout("no_action", "structural", ENV, n_customers=200, seed=4)
    b = rollout(NoActionPolicy(), "structural", ENV, n_customers=200, seed=4)
    np.testing.assert_array_equal(a.profit, b.profit)
    c = rollout("no_action", "structural", ENV, n_customers=200, seed=5)
    assert not np.array_equal(a.profit, c.profit)
    # The first customers do not depend on how many customers share the batch.
    d = rollout("no_action", "structural", ENV, n_customers=50, seed=4)
    np.testing.assert_array_equal(a.profit[:50], d.profit)


def test_kpis_add_up():
    res = rollout("always:email", "structural", {**ENV, "opt_out": "continue"}, 100, seed=1)
    assert np.all(res.weeks == 10)
    # Every week is an e-mail ($0.10) until a customer opts out; then the env sends nothing.
    np.testing.assert_allclose(res.contacts, res.action_counts[:, 1])
    np.testing.assert_allclose(res.contact_cost, 0.10 * res.contacts)
    assert np.all(res.action_counts.sum(axis=1) == 10)
    assert (res.contacts == 10).mean() > 0.8
    k = res.kpis()
    assert k["contacts_per_customer"] == pytest.approx(res.contacts.mean())
    assert k["purchase_rate"] == pytest.approx(res.purchase_weeks.sum() / 1000)
    assert 0.0 <= k["share_active_at_end"] <= 1.0
    # Active at the end means a purchase in the last 13 weeks: here any purchase at all.
    np.testing.assert_array_equal(res.active_at_end, res.purchase_weeks > 0)


def test_terminated_customers_stop_counting():
    res = rollout("always:discount_25", "structural", {**ENV, "horizon": 30}, 300, seed=2)
    assert res.weeks.max() == 30
    assert np.all(res.action_counts.sum(axis=1) == res.weeks)


def test_compare_gives_paired_differences():
    base = rollout("no_action", "structural", ENV, 300, seed=3)
    other = rollout("always:email", "structural", ENV, 300, seed=3)
    table = compare({"no_action": base, "email": other}, "no_action")
    row = table["email"]
    assert row["profit_diff_vs_baseline"] == pytest.approx((other.profit - base.profit).mean())
    assert row["profit_diff_ci_low"] <= row["profit_diff_vs_baseline"] <= row["profit_diff_ci_high"]
    with pytest.raises(EnvArgumentError, match="n_customers=0"):
        rollout("no_action", "structural", ENV, 0, seed=3)
