"""Run any policy on fresh simulated customers and collect money per customer.

One call plays ``n_customers`` customers side by side for one episode each (``horizon``
weeks, or fewer when a customer opts out and the env terminates the episode). Customer
``i`` is slot ``i`` of a :class:`~crm_env.CRMVectorEnv` seeded with ``seed``, so two
policies rolled out with the same seed face the same customers with the same luck (common
random numbers) and their per-customer profits can be compared pair by pair.

>>> from agents.heuristics import NoActionPolicy
>>> res = rollout(NoActionPolicy(), "structural", {"horizon": 4}, n_customers=8, seed=1)
>>> res.profit.shape, bool((res.contacts == 0).all())
((8,), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from agents.policies import Policy, load_policy
from crm_env import CRMVectorEnv
from gan_simulator.errors import EnvArgumentError

__all__ = ["ACTIVE_WEEKS", "RolloutResult", "compare", "rollout"]

ACTIVE_WEEKS = 13
"""A customer counts as *active at the end* when they bought in the episode's last 13 weeks
(one quarter; the whole episode when it is shorter)."""


@dataclass(frozen=True)
class RolloutResult:
    """Per-customer totals over one episode (arrays of length ``n_customers``, dollars).

    Attributes:
        profit: Sum of the env's reward parts in dollars
            (``revenue - cogs - contact_cost - incentive_cost``).
        revenue: Price paid (list price less discount).
        discount_cost: Dollars given away as discounts.
        contact_cost: Dollars spent on contacts.
        incentive_cost: Dollars spent on redeemed incentives.
        contacts: Number of contact actions.
        purchase_weeks: Weeks with a purchase.
        weeks: Weeks played (the horizon unless the episode terminated early).
        active_at_end: Bought within the last :data:`ACTIVE_WEEKS` weeks of the episode.
        action_counts: ``int64[n, K]`` how often each action code was chosen.
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
    action_counts: np.ndarray

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self.profit.shape[0])

    def kpis(self) -> dict[str, float]:
        """Business KPIs: means per customer, purchase rate per customer-week, shares."""
        n = max(self.n_customers, 1)
        return {
            "profit_per_customer": float(self.profit.sum() / n),
            "revenue_per_customer": float(self.revenue.sum() / n),
            "discount_cost_per_customer": float(self.discount_cost.sum() / n),
            "contact_cost_per_customer": float(self.contact_cost.sum() / n),
            "incentive_cost_per_customer": float(self.incentive_cost.sum() / n),
            "contacts_per_customer": float(self.contacts.sum() / n),
            "purchase_rate": float(self.purchase_weeks.sum() / max(self.weeks.sum(), 1)),
            "share_active_at_end": float(self.active_at_end.mean()) if self.n_customers else 0.0,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        """All per-customer arrays by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def rollout(
    policy: Policy | str | Callable[[CRMVectorEnv], Policy],
    simulator: Any,
    env_config: Any,
    n_customers: int,
    seed: int,
    deterministic: bool = True,
    device: str = "cpu",
) -> RolloutResult:
    """Play one episode for each of ``n_customers`` fresh customers.

    Args:
        policy: A policy object, a spec for :func:`agents.policies.load_policy`, or a
            callable building the policy from the env (model-based heuristics need the env).
        simulator: Anything ``CRMVectorEnv(simulator=...)`` accepts (a name or an instance).
        env_config: ``EnvConfig`` or mapping of its fields.
        n_customers: Customers to play (all side by side).
        seed: Root seed of the customers and their luck.
        deterministic: Ask the policy for its most likely action.
        device: Torch device for learned policies given as a spec.

    Returns:
        Per-customer totals.
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, int) or n_customers < 1:
        raise EnvArgumentError(f"n_customers={n_customers!r} must be a positive integer")
    env = CRMVectorEnv(num_envs=n_customers, simulator=simulator, config=env_config, seed=seed)
    if isinstance(policy, str):
        policy = load_policy(policy, env, device=device)
    elif not hasattr(policy, "predict") and callable(policy):
        policy = policy(env)
    horizon = env.config.horizon
    window = min(ACTIVE_WEEKS, horizon)
    contact = np.array([a.is_contact for a in env.catalog.actions], dtype=np.float64)
    n_actions = len(env.catalog)

    totals = {k: np.zeros(n_customers) for k in ("profit", "revenue", "discount_cost",
                                                  "contact_cost", "incentive_cost", "contacts")}
    purchase_weeks = np.zeros(n_customers)
    weeks = np.zeros(n_customers, dtype=np.int64)
    last_purchase = np.full(n_customers, -1, dtype=np.int64)
    counts = np.zeros((n_customers, n_actions), dtype=np.int64)
    playing = np.ones(n_customers, dtype=bool)
    rows = np.arange(n_customers)

    obs, _ = env.reset(seed=seed)
    state: Any = None
    episode_start = np.ones(n_customers, dtype=bool)
    for _ in range(horizon):
        actions, state = policy.predict(
            obs, state=state, episode_start=episode_start, deterministic=deterministic
        )
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        obs, _, terminated, truncated, info = env.step(actions)
        live = playing.astype(np.float64)
        played = info["action"]
        totals["profit"] += live * (info["revenue"] - info["cogs"] - info["contact_cost"]
                                    - info["incentive_cost"])
        totals["revenue"] += live * info["revenue"]
        totals["discount_cost"] += live * info["discount_cost"]
        totals["contact_cost"] += live * info["contact_cost"]
        totals["incentive_cost"] += live * info["incentive_cost"]
        totals["contacts"] += live * contact[played]
        bought = playing & np.asarray(info["purchased"], dtype=bool)
        purchase_weeks += bought
        last_purchase = np.where(bought, weeks, last_purchase)
        counts[rows[playing], played[playing]] += 1
        weeks += playing
        done = terminated | truncated
        playing &= ~done
        episode_start = done
        if not playing.any():
            break
    active = (last_purchase >= 0) & (last_purchase >= weeks - window)
    return RolloutResult(
        profit=totals["profit"],
        revenue=totals["revenue"],
        discount_cost=totals["discount_cost"],
        contact_cost=totals["contact_cost"],
        incentive_cost=totals["incentive_cost"],
        contacts=totals["contacts"],
        purchase_weeks=purchase_weeks,
        weeks=weeks,
        active_at_end=active,
        action_counts=counts,
    )


def compare(results: Mapping[str, RolloutResult], baseline: str) -> dict[str, dict[str, float]]:
    """KPIs of every policy plus the paired difference in profit against ``baseline``.

    The paired difference uses :func:`experiments.stats.paired_difference_ci` (bootstrap,
    95%), valid because all results come from the same customers (same seed).
    """
    from experiments.stats import paired_difference_ci

    base = results[baseline].profit
    table: dict[str, dict[str, float]] = {}
    for name, res in results.items():
        row = res.kpis()
        if name != baseline:
            est = paired_difference_ci(res.profit, base)
            row.update({"profit_diff_vs_baseline": est.mean, "profit_diff_ci_low": est.ci_low,
                        "profit_diff_ci_high": est.ci_high})
        table[name] = row
    return table
