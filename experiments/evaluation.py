"""Evaluate policies on the same simulated customers, in money, with confidence intervals.

Every policy plays the same ``customers x horizon`` weeks from the same root seed, so slot
``i`` meets the same customer with the same luck under every policy (common random numbers,
see :mod:`gan_simulator.rng`). Per customer we add up profit and its parts; per policy we
report means with bootstrap 95% intervals, paired differences against a baseline, and the same
by RFM segment (segments fixed from each customer's profile at the start of the episode).

Only the first episode of each slot counts: a slot whose customer opts out (terminated) is
autoreset by the env, and the weeks of the replacement customer are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crm_env import CRMVectorEnv, EnvConfig
from experiments.stats import Estimate, bootstrap_mean_ci, paired_difference_ci, ratio_of_sums_ci

logger = logging.getLogger(__name__)

PolicySpec = str | Callable[[CRMVectorEnv], Any]
"""A policy spec string for :func:`agents.policies.load_policy`, or a factory taking the env."""

ACTIVE_WEEKS = 13
"""A customer counts as *active at the end* with a purchase in the last 13 weeks (a quarter)."""

SEGMENTS: tuple[str, ...] = ("recent-high", "recent-low", "lapsing-high", "lapsing-low")
"""RFM segments: recency <= 8 weeks ("recent") or more ("lapsing"), crossed with monetary value
at or above the median of the evaluated customers ("high") or below ("low")."""

KPIS: tuple[str, ...] = (
    "profit_per_customer",
    "revenue_per_customer",
    "discount_cost_per_customer",
    "contact_cost_per_customer",
    "incentive_cost_per_customer",
    "contacts_per_customer",
    "purchase_rate",
    "active_at_end",
)


@dataclass
class RolloutResult:
    """Per-customer totals of one policy over one episode per slot.

    Attributes:
        profit, revenue, discount_cost, contact_cost, incentive_cost: ``float64[n]`` dollars.
        contacts: ``int64[n]`` contact actions sent.
        purchase_weeks: ``int64[n]`` weeks with a purchase.
        weeks: ``int64[n]`` weeks played (horizon unless terminated).
        active_at_end: ``bool[n]`` purchased in the last :data:`ACTIVE_WEEKS` weeks of the horizon.
        segment: ``int64[n]`` index into :data:`SEGMENTS` at the start of the episode.
        weekly_profit: ``float64[horizon]`` profit summed over customers per week.
        weekly_active: ``float64[horizon]`` share of customers with a purchase in the trailing
            :data:`ACTIVE_WEEKS` weeks, per week.
        action_counts: ``int64[len(SEGMENTS), K]`` actions taken, by the segment the customer
            was in that week.
        actions: ``int16[n, horizon]`` action per customer-week (-1 after the episode ended).
    """

    profit: np.ndarray
    revenue: np.ndarray
    discount_cost: np.ndarray
    contact_cost: np.ndarray
    incentive_cost: np.ndarray
    contacts: np.ndarray
    purchase_weeks: np.ndarray
    weeks: np.ndarray
    active_at_end: np.ndarray
    segment: np.ndarray
    weekly_profit: np.ndarray
    weekly_active: np.ndarray
    action_counts: np.ndarray
    actions: np.ndarray

    @property
    def incentive_spend(self) -> np.ndarray:
        """Discounts given plus incentives paid plus contact costs, per customer."""
        return self.discount_cost + self.incentive_cost + self.contact_cost

    def kpi(self, name: str) -> np.ndarray:
        """Per-customer values of one of :data:`KPIS`."""
        per_customer = {
            "profit_per_customer": self.profit,
            "revenue_per_customer": self.revenue,
            "discount_cost_per_customer": self.discount_cost,
            "contact_cost_per_customer": self.contact_cost,
            "incentive_cost_per_customer": self.incentive_cost,
            "contacts_per_customer": self.contacts.astype(np.float64),
            "purchase_rate": self.purchase_weeks / np.maximum(self.weeks, 1),
            "active_at_end": self.active_at_end.astype(np.float64),
        }
        return per_customer[name]


def _segments(env: CRMVectorEnv, profile: np.ndarray, value_cut: float) -> np.ndarray:
    """Segment index of each row of a batch of ``profile`` observations."""
    layout = env.layout
    recency = profile[:, layout.profile_index("recency_weeks")]
    monetary = profile[:, layout.profile_index("monetary")]
    return (2 * (recency > 8) + (monetary < value_cut)).astype(np.int64)


def rollout(
    simulator: Any,
    policy: PolicySpec,
    customers: int,
    seed: int,
    env_config: EnvConfig | Mapping[str, Any] | None = None,
    progress: bool = False,
    on_step: Callable[[int, dict[str, np.ndarray], np.ndarray, dict[str, Any]], None] | None = None,
) -> RolloutResult:
    """Run ``policy`` for one episode on each of ``customers`` slots.

    Args:
        simulator: Anything ``CRMVectorEnv(simulator=...)`` accepts.
        policy: A spec string (see :mod:`agents.policies`) or a factory ``env -> policy``.
        customers: Number of customers (slots), all stepped as one batch.
        seed: Root seed: the same seed gives the same customers and luck to every policy.
        env_config: Environment settings (horizon, margin, ...).
        progress: Show a progress bar over weeks.
        on_step: Called after every week with ``(week, observation_before, actions, info)``
            (used by the episode recorder).
    """
    from agents.policies import load_policy

    env = CRMVectorEnv(num_envs=customers, simulator=simulator, config=env_config, seed=seed)
    pol = load_policy(policy, env) if isinstance(policy, str) else policy(env)
    horizon = env.config.horizon
    k = len(env.catalog)
    contact = np.array([a.is_contact for a in env.catalog.actions])
    obs, _ = env.reset(seed=seed)
    value_cut = float(np.median(obs["profile"][:, env.layout.profile_index("monetary")]))
    segment = _segments(env, obs["profile"], value_cut)
    counts = np.zeros((len(SEGMENTS), k), dtype=np.int64)
    zeros = np.zeros(customers)
    tot = {k_: zeros.copy() for k_ in ("profit", "revenue", "discount_cost", "contact_cost", "incentive_cost")}
    contacts = np.zeros(customers, dtype=np.int64)
    purchase_weeks = np.zeros(customers, dtype=np.int64)
    weeks = np.zeros(customers, dtype=np.int64)
    last_purchase = np.full(customers, -(10**6), dtype=np.int64)
    live = np.ones(customers, dtype=bool)
    weekly_profit = np.zeros(horizon)
    weekly_active = np.zeros(horizon)
    actions_log = np.full((customers, horizon), -1, dtype=np.int16)
    state = None
    episode_start = np.ones(customers, dtype=bool)
    weeks_iter: Any = range(horizon)
    if progress:
        from tqdm.auto import tqdm

        weeks_iter = tqdm(weeks_iter, desc="weeks", unit="wk", leave=False)
    for t in weeks_iter:
        actions, state = pol.predict(obs, state=state, episode_start=episode_start, deterministic=True)
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        prev_obs = obs
        obs, _reward, terminated, truncated, info = env.step(actions)
        if on_step is not None:
            on_step(t, prev_obs, actions, info)
        w = live.astype(np.float64)
        profit = info["revenue"] - info["cogs"] - info["contact_cost"] - info["incentive_cost"]
        tot["profit"] += w * profit
        tot["revenue"] += w * info["revenue"]
        tot["discount_cost"] += w * info["discount_cost"]
        tot["contact_cost"] += w * info["contact_cost"]
        tot["incentive_cost"] += w * info["incentive_cost"]
        contacts += live & contact[actions] & (info["contact_cost"] > 0)
        bought = live & np.asarray(info["purchased"], dtype=bool)
        purchase_weeks += bought
        last_purchase[bought] = t
        weeks += live
        actions_log[live, t] = actions[live]
        week_segment = _segments(env, prev_obs["profile"], value_cut)
        np.add.at(counts, (week_segment[live], actions[live]), 1)
        weekly_profit[t] = float((w * profit).sum())
        weekly_active[t] = float((last_purchase > t - ACTIVE_WEEKS).mean())
        live &= ~(terminated | truncated)
        episode_start = terminated | truncated
    return RolloutResult(
        profit=tot["profit"],
        revenue=tot["revenue"],
        discount_cost=tot["discount_cost"],
        contact_cost=tot["contact_cost"],
        incentive_cost=tot["incentive_cost"],
        contacts=contacts,
        purchase_weeks=purchase_weeks,
        weeks=weeks,
        active_at_end=last_purchase > horizon - 1 - ACTIVE_WEEKS,
        segment=segment,
        weekly_profit=weekly_profit,
        weekly_active=weekly_active,
        action_counts=counts,
        actions=actions_log,
    )


@dataclass
class Evaluation:
    """Results of :func:`evaluate`: per-policy rollouts and their summaries.

    Attributes:
        rollouts: Policy name -> :class:`RolloutResult`.
        summary: The JSON-ready dictionary (see :func:`summarize`).
        action_names: Names of the action codes.
    """

    rollouts: dict[str, RolloutResult]
    summary: dict[str, Any]
    action_names: tuple[str, ...] = field(default_factory=tuple)


def summarize(
    rollouts: Mapping[str, RolloutResult],
    baseline: str,
    action_names: tuple[str, ...],
    seed: int = 0,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """KPIs with CIs per policy, paired differences against ``baseline``, and segment tables."""
    if baseline not in rollouts:
        raise KeyError(f"baseline {baseline!r} is not among the evaluated policies {list(rollouts)}")
    base = rollouts[baseline]
    out: dict[str, Any] = {"baseline": baseline, "policies": {}, "paired": {}, "segments": {}}
    for name, r in rollouts.items():
        pol = {kpi: bootstrap_mean_ci(r.kpi(kpi), n_boot=n_boot, seed=seed).to_dict() for kpi in KPIS}
        # Incremental profit over the baseline per dollar of discounts, incentives and contacts.
        pol["return_on_incentive_spend"] = (
            ratio_of_sums_ci(r.profit - base.profit, r.incentive_spend, n_boot=n_boot, seed=seed).to_dict()
            if r.incentive_spend.sum() > 0
            else None
        )
        total = r.action_counts.sum()
        pol["action_mix"] = {
            a: float(r.action_counts[:, i].sum() / max(total, 1)) for i, a in enumerate(action_names)
        }
        out["policies"][name] = pol
        out["paired"][name] = {
            kpi: paired_difference_ci(r.kpi(kpi), base.kpi(kpi), n_boot=n_boot, seed=seed).to_dict()
            for kpi in ("profit_per_customer", "revenue_per_customer", "active_at_end")
        }
        seg_out = {}
        for s, seg_name in enumerate(SEGMENTS):
            rows = r.segment == s
            if not rows.any():
                continue
            counts = r.action_counts[s]  # customer-weeks in this segment, any customer
            seg_out[seg_name] = {
                "customers": int(rows.sum()),
                "profit_per_customer": bootstrap_mean_ci(r.profit[rows], n_boot=n_boot, seed=seed).to_dict(),
                "paired_profit_vs_baseline": paired_difference_ci(
                    r.profit[rows], base.profit[rows], n_boot=n_boot, seed=seed
                ).to_dict(),
                "action_mix": {
                    a: float(counts[i] / max(counts.sum(), 1)) for i, a in enumerate(action_names)
                },
            }
        out["segments"][name] = seg_out
    out["best_policy"] = max(
        rollouts, key=lambda n: out["policies"][n]["profit_per_customer"]["mean"]
    )
    return out


def evaluate(
    simulator: Any,
    policies: Mapping[str, PolicySpec],
    customers: int = 10_000,
    seed: int = 0,
    baseline: str | None = None,
    env_config: EnvConfig | Mapping[str, Any] | None = None,
    n_boot: int = 2000,
    progress: bool = False,
) -> Evaluation:
    """Run every policy on the same customers (common random numbers) and summarise.

    Args:
        simulator: Simulator spec or instance (see :class:`crm_env.CRMVectorEnv`).
        policies: Display name -> policy spec or factory.
        customers: Customers per policy.
        seed: Root seed shared by all policies.
        baseline: Policy the paired differences are taken against (default: the first).
        env_config: Environment settings.
        n_boot: Bootstrap resamples per interval.
        progress: Show progress bars.
    """
    if not policies:
        raise ValueError("no policies to evaluate")
    baseline = baseline or next(iter(policies))
    rollouts: dict[str, RolloutResult] = {}
    names: tuple[str, ...] = ()
    items: Any = policies.items()
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(list(items), desc="policies", unit="policy")
    for name, spec in items:
        logger.info("evaluating %s on %d customers", name, customers)
        rollouts[name] = rollout(simulator, spec, customers, seed, env_config, progress=progress)
    env = CRMVectorEnv(num_envs=1, simulator=simulator, config=env_config, seed=seed)
    names = env.catalog.names
    summary = summarize(rollouts, baseline, names, seed=seed, n_boot=n_boot)
    summary["settings"] = {
        "customers": customers,
        "seed": seed,
        "horizon": env.config.horizon,
        "margin": env.config.margin,
        "simulator": env.metadata.get("simulator"),
        "simulator_fingerprint": env.metadata.get("simulator_fingerprint"),
        "active_weeks": ACTIVE_WEEKS,
    }
    return Evaluation(rollouts=rollouts, summary=summary, action_names=names)


def estimate(d: Mapping[str, float]) -> Estimate:
    """Rebuild an :class:`~experiments.stats.Estimate` from its JSON form."""
    return Estimate(d["mean"], d["ci_low"], d["ci_high"], int(d["n"]))
