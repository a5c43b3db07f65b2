"""Logged campaign histories: round trip into the data pipeline, propensities, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from gan_simulator.actions import ActionCatalog
from gan_simulator.campaign_log import (
    CampaignLogConfig,
    CohortSimulator,
    LoggingPolicyConfig,
    generate_campaign_log,
)
from gan_simulator.configuration import from_mapping
from gan_simulator.data import build_panel, read_transactions
from gan_simulator.errors import ConfigError
from gan_simulator.rng import stream_keys, uniforms
from gan_simulator.structural import StructuralSimulator


@pytest.fixture(scope="module")
def truth() -> StructuralSimulator:
    return StructuralSimulator()


@pytest.fixture(scope="module")
def log(truth):
    return generate_campaign_log(truth, CampaignLogConfig(customers=1500, weeks=30, seed=3))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_through_the_data_pipeline(log, tmp_path, fmt):
    paths = log.write(tmp_path, fmt)
    frame = read_transactions(paths["transactions"])
    panel = build_panel(frame, origin=log.origin, end=log.origin + np.timedelta64(7 * 30 - 1, "D"))
    direct = log.panel()
    assert panel.n_customers == 1500 and panel.n_periods == 30
    assert np.array_equal(panel.customer_ids, log.customer_ids)
    # The logged actions come back exactly, and so does the behaviour (spend to the cent).
    assert np.array_equal(panel.actions, log.action_matrix())
    assert panel.actions.any()
    np.testing.assert_allclose(panel.behaviour, direct.behaviour, atol=0.02 * 8)
    assert np.array_equal(panel.first_period, log.cohort)
    # Treated weeks without a purchase are rows with an action and an empty amount.
    treat_only = frame["amount"].isna()
    assert treat_only.any() and (frame.loc[treat_only, "action"] != "none").all()
    assert frame.attrs["read_report"].treatment_rows == int(treat_only.sum())


def test_acquisition_is_staggered_like_the_cohort_weights(log):
    shares = np.bincount(log.cohort, minlength=12) / len(log.cohort)
    expected = np.asarray(CampaignLogConfig().cohort_weights) / sum(CampaignLogConfig().cohort_weights)
    assert log.cohort.max() == 11
    assert np.abs(shares - expected).max() < 0.03


def test_campaign_log_covers_every_week_after_acquisition(log):
    per_customer = log.campaign.groupby("customer_id").size().reindex(log.customer_ids).to_numpy()
    assert np.array_equal(per_customer, 30 - 1 - log.cohort)
    assert (log.campaign["week"].to_numpy() > log.cohort[
        np.searchsorted(log.customer_ids, log.campaign["customer_id"])]).all()


def test_recorded_propensities_match_the_randomised_policy(truth):
    probs = {"none": 0.6, "email": 0.3, "discount_25": 0.1}
    lapsed = {"none": 0.5, "loyalty_perk": 0.5}
    policy = LoggingPolicyConfig(probabilities=probs, lapsed_probabilities=lapsed,
                                 lapsed_after_weeks=6)
    log = generate_campaign_log(truth, CampaignLogConfig(customers=1500, weeks=30, policy=policy))
    camp = log.campaign
    panel = log.panel()
    bought = panel.feature("purchased") > 0
    rows = np.searchsorted(log.customer_ids, camp["customer_id"])
    week = camp["week"].to_numpy()
    # Recency recomputed independently from the panel: weeks since the last purchase week.
    last = np.array([np.flatnonzero(bought[r, :w])[-1] for r, w in zip(rows, week, strict=True)])
    is_lapsed = (week - 1 - last) >= 6
    expected = np.where(is_lapsed, camp["action"].map(lapsed).fillna(0.0),
                        camp["action"].map(probs).fillna(0.0))
    opted = camp["propensity"].to_numpy() == 1.0
    np.testing.assert_allclose(camp["propensity"].to_numpy()[~opted], expected[~opted])
    assert (camp["action"][opted] == "none").all()
    # Empirical frequencies agree with the propensities (within 4 standard errors).
    active = ~opted & ~is_lapsed
    for action, p in probs.items():
        share = (camp["action"][active] == action).mean()
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / active.sum())
    assert set(camp["action"][is_lapsed & ~opted]) <= {"none", "loyalty_perk"}


def test_rule_policy_follows_recency_with_propensity_one(truth):
    rule = LoggingPolicyConfig(kind="rule", epsilon=0.0, contact_after_weeks=3,
                               lapsed_after_weeks=8)
    log = generate_campaign_log(truth, CampaignLogConfig(customers=400, weeks=25, policy=rule))
    camp = log.campaign
    bought = log.panel().feature("purchased") > 0
    rows = np.searchsorted(log.customer_ids, camp["customer_id"])
    week = camp["week"].to_numpy()
    last = np.array([np.flatnonzero(bought[r, :w])[-1] for r, w in zip(rows, week, strict=True)])
    recency = week - 1 - last
    want = np.where(recency >= 8, "discount_10", np.where(recency >= 3, "email", "none"))
    reachable = camp["propensity"].to_numpy() == 1.0
    assert reachable.all()
    sent = camp["action"].to_numpy()
    # Opted-out customers are not contacted; everyone else gets exactly the rule's action.
    assert ((sent == want) | (sent == "none")).all()
    assert (sent == want).mean() > 0.95


def test_same_seed_same_log_other_seed_other_log(truth):
    a = generate_campaign_log(truth, CampaignLogConfig(customers=200, weeks=20, seed=1))
    b = generate_campaign_log(truth, CampaignLogConfig(customers=200, weeks=20, seed=1))
    c = generate_campaign_log(truth, CampaignLogConfig(customers=200, weeks=20, seed=2))
    assert a.transactions.equals(b.transactions) and a.campaign.equals(b.campaign)
    assert not a.transactions.equals(c.transactions)


def test_bad_policies_are_refused_with_the_fix(truth):
    with pytest.raises(ConfigError, match="sum to 1"):
        from_mapping(LoggingPolicyConfig, {"probabilities": {"none": 0.5, "email": 0.2}})
    with pytest.raises(ConfigError, match="not in the catalogue"):
        generate_campaign_log(truth, CampaignLogConfig(
            customers=5, weeks=20, policy=LoggingPolicyConfig(probabilities={"none": 0.5, "sms": 0.5})))
    with pytest.raises(ConfigError, match="acquisition weeks"):
        CampaignLogConfig(weeks=5)


def test_cohort_simulator_changes_only_the_cohort(truth):
    wrapped = CohortSimulator(truth, (1.0, 1.0, 2.0))
    n = 4000
    keys = stream_keys(0, np.arange(n), np.zeros(n, dtype=np.int64))
    u = uniforms(keys, 0, wrapped.customer_noise_dim)
    inner = truth.draw_customers(u[:, :-1])
    draw = wrapped.draw_customers(u)
    assert np.array_equal(draw.history, inner.history)
    assert np.array_equal(draw.static[:, 1:], inner.static[:, 1:])
    shares = np.bincount(draw.static[:, 0].astype(int), minlength=3) / n
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], atol=0.03)
    assert wrapped.catalog == ActionCatalog.default() and wrapped.has_latent_state
