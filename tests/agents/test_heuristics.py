"""Heuristic policies on hand-computed cases, via the same predict() protocol as SB3."""

from __future__ import annotations

import numpy as np
import pytest

from agents.heuristics import (
    MyopicUpliftPolicy,
    OraclePolicy,
    RFMRuleConfig,
    RFMRulePolicy,
    expected_profit,
)
from agents.policies import load_policy
from crm_env import CRMVectorEnv
from gan_simulator.errors import ConfigError, EnvArgumentError
from gan_simulator.structural import StructuralSimulator
from tests.agents.conftest import SMALL_ENV


@pytest.fixture()
def env() -> CRMVectorEnv:
    e = CRMVectorEnv(num_envs=4, simulator="structural", config=SMALL_ENV, seed=11)
    e.reset()
    return e


def _observation(env: CRMVectorEnv) -> dict[str, np.ndarray]:
    """The current observation (heuristics read only the profile, by name)."""
    n = env.num_envs
    return {"history": np.zeros((n, *env.layout.history_shape), dtype=np.float32),
            "profile": env.buffers.profile.copy()}


def _profile(env: CRMVectorEnv, rows: list[dict[str, float]]) -> dict[str, np.ndarray]:
    layout = env.layout
    prof = np.zeros((len(rows), layout.profile_shape[0]), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            prof[i, layout.profile_index(name)] = value
    hist = np.zeros((len(rows), *layout.history_shape), dtype=np.float32)
    return {"history": hist, "profile": prof}


def test_simple_policies_and_protocol(env):
    obs = _observation(env)
    for spec, expected in (("no_action", [0, 0, 0, 0]), ("always:discount_25", [3, 3, 3, 3])):
        actions, state = load_policy(spec, env).predict(obs, None, None, True)
        assert actions.tolist() == expected and state is None
    a1, _ = load_policy("random:5", env).predict(obs)
    a2, _ = load_policy("random:5", env).predict(obs)
    assert a1.tolist() == a2.tolist() and a1.dtype == np.int64
    with pytest.raises(ConfigError, match="unknown action 'sms'"):
        load_policy("always:sms", env)
    with pytest.raises(ConfigError, match="unknown policy 'greedy'"):
        load_policy("greedy", env)


def test_rfm_rule_hand_cases(env):
    cat = env.catalog
    # monetary is log1p(mean spend per purchase week): $60 -> log1p(60).
    obs = _profile(env, [
        {"recency_weeks": 2, "frequency": 3, "monetary": np.log1p(60)},          # recent: none
        {"recency_weeks": 7, "frequency": 1, "monetary": np.log1p(20)},          # reminder
        {"recency_weeks": 13, "frequency": 3, "monetary": np.log1p(60)},         # lapsing VIP
        {"recency_weeks": 13, "frequency": 3, "monetary": np.log1p(20)},         # lapsing, low value
        {"recency_weeks": 13, "frequency": 3, "monetary": np.log1p(60), "contacts_last_4w": 1},
        {"recency_weeks": 13, "frequency": 3, "monetary": np.log1p(60), "opted_out": 1},
    ])
    actions, _ = RFMRulePolicy(env.layout, cat).predict(obs)
    assert actions.tolist() == [0, cat.code("email"), cat.code("discount_10"), cat.code("email"), 0, 0]
    strict = load_policy("rfm_rule:contact_after_weeks=8,discount_action=discount_25", env)
    actions, _ = strict.predict(obs)
    assert actions.tolist() == [0, 0, cat.code("discount_25"), cat.code("email"), 0, 0]
    with pytest.raises(ConfigError, match="lapse_after_weeks=2.0 must be >= contact_after_weeks"):
        RFMRuleConfig(lapse_after_weeks=2.0)


def test_myopic_uplift_picks_best_hand_computed_action(env):
    state = env.sim_state
    # Customer 0: strong uplift to a 25% discount; 1: sleeping dog (all contact hurts);
    # 2: dead with no win-back chance; 3: modest e-mail uplift only.
    state["alive"][:] = [True, True, False, True]
    state["opted_out"][:] = False
    state["rate"][:] = [0.2, 0.2, 0.2, 0.5]
    state["spend_rate"][:] = 0.2
    state["contact_pressure"][:] = 0.0
    state["discount_pressure"][:] = 0.0
    state["uplift"][:] = 0.0
    state["uplift"][0, 3] = 2.0
    state["uplift"][1, 1:] = -0.5
    state["uplift"][3, 1] = 0.3
    sim, cat, margin = env.simulator, env.catalog, env.config.margin
    by_hand = np.zeros((4, len(cat)))
    per_week = (1.0 + sim.config.extra_transactions_mean) * sim.config.gg_p / 0.2
    for code in range(len(cat)):
        p = np.where(state["alive"], -np.expm1(-state["rate"] * np.exp(state["uplift"][:, code])), 0)
        by_hand[:, code] = expected_profit(p, p * per_week, cat, code, margin)
    policy = MyopicUpliftPolicy(env)
    np.testing.assert_allclose(policy.action_values()[[0, 1, 3]], by_hand[[0, 1, 3]], rtol=1e-9)
    actions, _ = policy.predict(_observation(env))
    assert actions[1] == 0 and actions[2] == 0
    assert actions.tolist() == np.argmax(by_hand, axis=1).tolist()


def test_oracle_uses_latent_state_and_refuses_without_it(env):
    state = env.sim_state
    state["alive"][:] = [True, False, True, True]
    oracle = OraclePolicy(env, n_samples=8, seed=0)
    values = oracle.action_values()
    myopic = MyopicUpliftPolicy(env).action_values()
    # For alive customers the continuation value is added; a dead one keeps only the win-back chance.
    assert np.all(values[[0, 2, 3]] >= myopic[[0, 2, 3]] - 1e-9)
    assert values.shape == (4, len(env.catalog))

    class Opaque(StructuralSimulator):
        has_latent_state = False

    blind = CRMVectorEnv(num_envs=2, simulator=Opaque(), config=SMALL_ENV, seed=0)
    blind.reset()
    with pytest.raises(EnvArgumentError, match="needs a simulator with latent state"):
        load_policy("oracle", blind)
