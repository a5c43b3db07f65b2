"""The deployment step: this week's action for every real customer of a log.

``crmgym decide`` reads a transaction log up to an as-of date, builds each customer's weekly
history, encodes it into the customer simulator (so model-based policies and the expected
profit see the customer's real past), builds the same observation the policy was trained on,
and writes one row per customer: the chosen action, the simulator's expected profit of that
action this week and of doing nothing, and (for learned policies) the three observation
features that pushed the decision most (see :mod:`agents.explain`).

Limits, stated: the history the policy sees starts at the customer's first purchase and
logged actions of the past are not replayed into the contact counters (they start at zero);
the ResponseModel's per-customer responsiveness is set to its median (unknown for a real
customer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_env import CRMVectorEnv, EnvConfig
from crm_env.observation import CustomerBuffers, observe, start_rows
from gan_simulator.data import build_panel
from gan_simulator.errors import DataError, EnvArgumentError


@dataclass
class DecisionView:
    """What model-based heuristics read from an env, for customers not inside an env.

    Attributes mirror :class:`crm_env.CRMVectorEnv`: ``simulator``, ``sim_state``,
    ``catalog``, ``layout``, ``config``.
    """

    simulator: Any
    sim_state: dict[str, Any]
    catalog: Any
    layout: Any
    config: EnvConfig
    single_observation_space: Any
    single_action_space: Any
    num_envs: int


def parse_as_of(text: str) -> pd.Timestamp:
    """Parse the ``--as-of`` date (any ISO-like format) or raise a clear DataError."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise DataError(f"--as-of {text!r} is not a date; write it like 1998-06-30")
    return ts.normalize()


def _real_simulator(simulator: Any, panel: Any) -> Any:
    """The simulator continuing the panel's customers (GAN + ResponseModel where needed)."""
    from gan_simulator.simulator import GANSimulator

    if simulator in (None, "gan"):
        gan = GANSimulator.default()
    elif isinstance(simulator, str):
        gan = GANSimulator.load(simulator)
    else:
        gan = simulator
    if not hasattr(gan, "with_real_pool"):
        raise EnvArgumentError(
            f"{type(gan).__name__} cannot continue real customers' histories; "
            "decide needs a GAN simulator (simulator='gan' or a checkpoint path)"
        )
    pool = gan.with_real_pool(panel)
    if getattr(gan, "learned_actions", False):
        return pool
    from crm_env.response import ResponseModel

    return ResponseModel(catalog=pool.catalog).wrap(pool)


def decide(
    policy: str,
    log: pd.DataFrame,
    as_of: str | pd.Timestamp,
    simulator: Any = "gan",
    env_config: EnvConfig | dict[str, Any] | None = None,
    explain: bool = True,
) -> pd.DataFrame:
    """This week's action per customer of ``log`` as of ``as_of``.

    Args:
        policy: Policy spec (``model:<folder>`` for a trained agent, or a heuristic).
        log: Canonical transaction frame (see :mod:`gan_simulator.data.schema`).
        as_of: Decision date; transactions after it are ignored.
        simulator: ``"gan"`` (shipped), a GAN checkpoint path or a GAN instance.
        env_config: The environment settings the policy was trained with (window, margin...).
        explain: Add the top attributions of learned policies.

    Returns:
        One row per customer: ``customer_id``, ``action``, ``action_code``,
        ``expected_profit``, ``expected_profit_no_action``, ``expected_uplift``,
        ``purchase_probability``, ``recency_weeks``, ``frequency``, and ``why`` when explained.
    """
    from agents.explain import attribute
    from agents.heuristics import expected_profit
    from agents.policies import load_policy

    as_of = parse_as_of(str(as_of)) if not isinstance(as_of, pd.Timestamp) else as_of.normalize()
    upto = log[log["timestamp"] < as_of + pd.Timedelta(days=1)]
    if upto.empty or upto["amount"].notna().sum() == 0:
        raise DataError(
            f"no transactions on or before --as-of {as_of.date()} (the log starts "
            f"{log['timestamp'].min().date()}); choose a later date"
        )
    panel = build_panel(upto, end=as_of)
    n = panel.n_customers
    sim = _real_simulator(simulator, panel)
    env = CRMVectorEnv(num_envs=1, simulator=sim, config=env_config, seed=0)
    layout, config = env.layout, env.config

    u = np.full((n, sim.customer_noise_dim), 0.5)
    u[:, 0] = (np.arange(n) + 0.5) / n  # channel 0 picks pool customer i, in order
    draw = sim.draw_customers(u)
    buffers = CustomerBuffers.allocate(layout, n)
    start_rows(buffers, np.arange(n), draw, layout, config.horizon)
    obs = observe(buffers, copy=True)

    view = DecisionView(sim, draw.state, sim.catalog, layout, config,
                        env.single_observation_space, env.single_action_space, n)
    pol = load_policy(policy, view)
    actions, _ = pol.predict(obs, state=None, episode_start=np.ones(n, dtype=bool), deterministic=True)
    actions = np.asarray(actions, dtype=np.int64).reshape(-1)

    p, spend = sim.expected_week(draw.state, actions)
    p0, spend0 = sim.expected_week(draw.state, np.zeros(n, dtype=np.int64))
    margin = config.margin
    profit = _profit_by_action(p, spend, actions, sim.catalog, margin)
    profit0 = expected_profit(np.asarray(p0, float), np.asarray(spend0, float), sim.catalog, 0, margin)
    names = np.asarray(sim.catalog.names)
    out = pd.DataFrame({
        "customer_id": panel.customer_ids,
        "as_of": str(as_of.date()),
        "action": names[actions],
        "action_code": actions,
        "expected_profit": np.round(profit, 4),
        "expected_profit_no_action": np.round(profit0, 4),
        "expected_uplift": np.round(profit - profit0, 4),
        "purchase_probability": np.round(np.asarray(p, float), 5),
        "recency_weeks": obs["profile"][:, layout.profile_index("recency_weeks")],
        "frequency": obs["profile"][:, layout.profile_index("frequency")],
    })
    if explain:
        attr = attribute(pol, obs, actions, layout)
        out["why"] = attr.top(3) if attr is not None else f"rule: {policy}"
    return out


def _profit_by_action(
    p: np.ndarray, spend: np.ndarray, actions: np.ndarray, catalog: Any, margin: float
) -> np.ndarray:
    """Expected one-week profit of each customer's own action (vectorised over codes)."""
    from agents.heuristics import expected_profit

    p = np.asarray(p, dtype=np.float64)
    spend = np.asarray(spend, dtype=np.float64)
    out = np.empty(len(actions))
    for code in np.unique(actions):
        rows = actions == code
        out[rows] = expected_profit(p[rows], spend[rows], catalog, int(code), margin)
    return out
