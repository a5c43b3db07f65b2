"""The observation: names, history window, RFM profile features computed correctly."""

from __future__ import annotations

import numpy as np
import pytest

from crm_env.observation import CustomerBuffers, ObservationLayout, advance_week, start_rows
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import CustomerDraw

NAMES = ActionCatalog.default().names


def _draw() -> CustomerDraw:
    # customer 0: weeks -5..-1 exist, bought in week -4 ($10) and week -2 ($30, 2 transactions)
    # customer 1: only the acquisition week (last), bought $20
    history = np.zeros((2, 6, 3), dtype=np.float32)
    mask = np.zeros((2, 6), dtype=bool)
    mask[0, 1:] = True
    history[0, 2] = (1, 1, 10.0)
    history[0, 4] = (1, 2, 30.0)
    mask[1, 5] = True
    history[1, 5] = (1, 1, 20.0)
    return CustomerDraw(
        state={}, static=np.array([[2.0, -3.0], [0.0, 1.0]], dtype=np.float32),
        history=history, history_mask=mask, customer_ids=np.array([7, -1]),
    )


def test_layout_names_and_indices() -> None:
    layout = ObservationLayout(NAMES, ("a", "b"), window=4)
    assert layout.history_names[:3] == ("purchased", "transactions", "log_spend")
    assert layout.history_names[-1] == "valid"
    assert layout.history_index("action_discount_25") == 6
    assert layout.profile_names[:2] == ("static_a", "static_b")
    assert layout.profile_index("opted_out") == layout.profile_shape[0] - 1
    with pytest.raises(EnvArgumentError, match="recency"):
        layout.profile_index("recency")


def test_start_rows_builds_window_and_rfm_from_history() -> None:
    layout = ObservationLayout(NAMES, ("a", "b"), window=4)
    buf = CustomerBuffers.allocate(layout, 2)
    start_rows(buf, np.arange(2), _draw(), layout, horizon=52)
    p = {n: buf.profile[:, i] for i, n in enumerate(layout.profile_names)}
    np.testing.assert_allclose(p["static_a"], [np.log1p(2.0), 0.0])
    np.testing.assert_allclose(p["static_b"], [-np.log1p(3.0), np.log1p(1.0)])
    np.testing.assert_array_equal(p["recency_weeks"], [1, 0])
    np.testing.assert_array_equal(p["frequency"], [2, 1])
    np.testing.assert_allclose(p["monetary"], [np.log1p(20.0), np.log1p(20.0)], rtol=1e-6)
    np.testing.assert_array_equal(p["tenure_weeks"], [5, 1])
    np.testing.assert_array_equal(p["weeks_left"], [52, 52])
    # window = last 4 weeks; customer 1 has 3 padding weeks
    np.testing.assert_array_equal(buf.history[0, :, -1], [1, 1, 1, 1])
    np.testing.assert_array_equal(buf.history[1, :, -1], [0, 0, 0, 1])
    np.testing.assert_array_equal(buf.history[0, :, 0], [1, 0, 1, 0])
    np.testing.assert_allclose(buf.history[0, 2, 2], np.log1p(30.0))
    assert buf.history[:, :, 3:8].sum() == 0  # actions before the episode are unknown
    np.testing.assert_array_equal(buf.customer_id, [7, -1])


def test_advance_week_updates_profile_and_history() -> None:
    layout = ObservationLayout(NAMES, ("a", "b"), window=4)
    cat = ActionCatalog.default()
    is_contact = np.array([a.is_contact for a in cat.actions], dtype=np.float32)
    is_discount = (cat.array("discount") > 0).astype(np.float32)
    buf = CustomerBuffers.allocate(layout, 2)
    start_rows(buf, np.arange(2), _draw(), layout, horizon=52)
    weeks = [  # (actions, purchased, spend)
        (np.array([3, 1]), np.array([True, False]), np.array([50.0, 0.0], np.float32)),
        (np.array([2, 0]), np.array([False, False]), np.array([0.0, 0.0], np.float32)),
        (np.array([0, 1]), np.array([False, True]), np.array([0.0, 40.0], np.float32)),
    ]
    for actions, bought, spend in weeks:
        advance_week(buf, actions, bought, bought.astype(np.float32), spend,
                     np.array([False, False]), is_contact, is_discount, n_static=2)
    p = {n: buf.profile[:, i] for i, n in enumerate(layout.profile_names)}
    np.testing.assert_array_equal(p["recency_weeks"], [2, 0])
    np.testing.assert_array_equal(p["frequency"], [3, 2])
    np.testing.assert_allclose(p["monetary"], np.log1p([90 / 3, 60 / 2]), rtol=1e-6)
    np.testing.assert_array_equal(p["tenure_weeks"], [8, 4])
    np.testing.assert_array_equal(p["weeks_left"], [49, 49])
    np.testing.assert_array_equal(p["contacts_last_4w"], [2, 2])
    np.testing.assert_array_equal(p["discounts_last_4w"], [2, 0])
    np.testing.assert_array_equal(buf.week, [3, 3])
    # newest row: customer 1 was e-mailed and bought $40
    last = buf.history[1, -1]
    np.testing.assert_allclose(last[:3], [1, 1, np.log1p(40.0)], rtol=1e-6)
    assert last[3 + 1] == 1 and last[3:8].sum() == 1 and last[-1] == 1
    np.testing.assert_array_equal(buf.history[1, :, 3 + 1], [0, 1, 0, 1])


def test_history_window_matches_the_played_weeks_over_many_steps() -> None:
    """The sliding ring (compacted every few dozen weeks) shows exactly the last W weeks."""
    from crm_env import CRMVectorEnv

    n, w = 16, 8
    env = CRMVectorEnv(num_envs=n, simulator="structural", seed=5, horizon=200, opt_out="continue")
    obs, _ = env.reset()
    start = obs["history"].copy()
    played = []
    rng = np.random.default_rng(1)
    for _ in range(90):  # > 2 compactions of the ring
        obs, _, _, _, info = env.step(rng.integers(0, 5, n))
        row = np.zeros((n, 9), dtype=np.float32)
        row[:, 0] = info["purchased"]
        row[:, 1] = info["transactions"]
        row[:, 2] = np.log1p(info["gross_spend"].astype(np.float32))
        row[np.arange(n), 3 + info["action"]] = 1.0
        row[:, 8] = 1.0
        played.append(row)
        expected = np.concatenate([start, np.stack(played, axis=1)], axis=1)[:, -w:]
        np.testing.assert_allclose(obs["history"], expected, rtol=1e-6)
