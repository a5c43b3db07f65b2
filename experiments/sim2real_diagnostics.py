"""Diagnostics of a sim-to-real setup: how much can a policy gain in the truth, and how close
are the GAN world's levels to the truth's?

``headroom`` evaluates, in the ground truth of a sim2real config (the cohort world the
agents are judged in), reference policies that bound what a learned policy can earn:

* ``oracle`` (one-step lookahead on the latent state) and ``myopic_uplift``;
* ``latent_email``: e-mail only customers who are alive, not sleeping dogs and have a weekly
  purchase rate above 0.02, every third week of the episode (information no agent observes);
* ``obs_r{R}f{F}e{E}``: e-mail customers whose ``recency_weeks <= R`` and ``frequency >= F``
  in every ``E``-th week of the episode (36 observation-based rules);

each paired against ``no_action`` on the same customers (common random numbers).

``levels`` compares what new customers do over one episode in the truth and in a GAN world
(purchase weeks, share with a repeat purchase, revenue per purchase week, profit), under
``no_action`` and under the config's randomised logging policy.

    python -m experiments.sim2real_diagnostics headroom [--config experiments/configs/sim2real.yaml]
        [--customers 4000] [--seed S] [--json FILE]
    python -m experiments.sim2real_diagnostics levels GAN_CHECKPOINT [--config ...]
        [--customers 4000] [--seed S] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from experiments.evaluation import evaluate, rollout
from experiments.sim2real import Sim2RealConfig, load_sim2real_config
from gan_simulator.campaign_log import CohortSimulator
from gan_simulator.io import write_json
from gan_simulator.structural import StructuralSimulator

DEFAULT_CONFIG = "experiments/configs/sim2real.yaml"
OBS_RECENCY = (2, 5, 10, 99)
OBS_FREQUENCY = (1, 2, 3)
OBS_EVERY = (2, 3, 4)


class _EmailRule:
    """E-mail the customers ``select(env, observation)`` picks, in every ``every``-th week."""

    def __init__(self, env: Any, select: Any, every: int) -> None:
        self.env, self.select, self.every = env, select, every
        self.weeks_left = env.layout.profile_index("weeks_left")

    def predict(self, observation: dict[str, np.ndarray], state: Any = None,
                episode_start: Any = None, deterministic: bool = True) -> tuple[np.ndarray, None]:
        week = (self.env.config.horizon - observation["profile"][:, self.weeks_left]).astype(int)
        chosen = self.select(self.env, observation) & (week % self.every == 1 % self.every)
        return np.where(chosen, 1, 0).astype(np.int64), None


def _latent(env: Any, observation: dict[str, np.ndarray]) -> np.ndarray:
    s = env.sim_state
    return s["alive"] & ~s["sleeping_dog"] & (s["rate"] > 0.02)


def _observed(recency: int, frequency: int) -> Any:
    def select(env: Any, observation: dict[str, np.ndarray]) -> np.ndarray:
        p, layout = observation["profile"], env.layout
        return ((p[:, layout.profile_index("recency_weeks")] <= recency)
                & (p[:, layout.profile_index("frequency")] >= frequency))
    return select


def _truth(config: Sim2RealConfig) -> CohortSimulator:
    return CohortSimulator(StructuralSimulator(config.structural), config.log.cohort_weights)


def headroom(config: Sim2RealConfig, customers: int, seed: int) -> list[dict[str, Any]]:
    """Paired profit per customer of every reference policy against ``no_action`` in the truth."""
    policies: dict[str, Any] = {name: name for name in
                                ("no_action", "rfm_rule", "myopic_uplift", "oracle")}
    policies["latent_email"] = lambda env: _EmailRule(env, _latent, 3)
    for r in OBS_RECENCY:
        for f in OBS_FREQUENCY:
            for e in OBS_EVERY:
                policies[f"obs_r{r}f{f}e{e}"] = (
                    lambda env, r=r, f=f, e=e: _EmailRule(env, _observed(r, f), e))
    ev = evaluate(_truth(config), policies, customers, seed, "no_action", config.env, n_boot=1000)
    rows = []
    for name in policies:
        gain = ev.summary["paired"][name]["profit_per_customer"]
        rows.append({"policy": name, "gain": gain["mean"], "ci_low": gain["ci_low"],
                     "ci_high": gain["ci_high"],
                     "contacts": ev.summary["policies"][name]["contacts_per_customer"]["mean"]})
    return sorted(rows, key=lambda row: -row["gain"])


class _Logging:
    """The config's randomised logging policy (seeded)."""

    def __init__(self, env: Any, probabilities: dict[str, float], seed: int) -> None:
        names = env.catalog.names
        self.p = np.array([probabilities.get(n, 0.0) for n in names])
        self.rng = np.random.default_rng(seed)

    def predict(self, observation: dict[str, np.ndarray], state: Any = None,
                episode_start: Any = None, deterministic: bool = True) -> tuple[np.ndarray, None]:
        n = len(observation["profile"])
        return self.rng.choice(len(self.p), size=n, p=self.p / self.p.sum()), None


def levels(config: Sim2RealConfig, gan_checkpoint: str | Path, customers: int,
           seed: int) -> list[dict[str, Any]]:
    """Per world and policy: purchase weeks, repeat share, revenue per purchase week, profit."""
    from gan_simulator.simulator import GANSimulator

    worlds = {"truth": _truth(config), "gan": GANSimulator.load(gan_checkpoint)}
    probs = dict(config.log.policy.probabilities)
    rows = []
    for policy_name, policy in (("no_action", "no_action"),
                                ("logging_policy", lambda env: _Logging(env, probs, 0))):
        for world, sim in worlds.items():
            r = rollout(sim, policy, customers, seed, config.env)
            weeks = r.purchase_weeks
            rows.append({"world": world, "policy": policy_name,
                         "purchase_weeks": float(weeks.mean()),
                         "repeat_share": float((weeks > 0).mean()),
                         "revenue_per_purchase_week": float(r.revenue.sum() / max(weeks.sum(), 1)),
                         "profit": float(r.profit.mean())})
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run one diagnostic and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("headroom", "levels"):
        p = sub.add_parser(name)
        if name == "levels":
            p.add_argument("gan_checkpoint", help="simulator.safetensors of the GAN world")
        p.add_argument("--config", default=DEFAULT_CONFIG)
        p.add_argument("--customers", type=int, default=4000)
        p.add_argument("--seed", type=int, default=None,
                       help="customers' root seed (default: the config's evaluation seed)")
        p.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    config = load_sim2real_config(args.config)
    seed = config.evaluation.seed if args.seed is None else args.seed
    if args.command == "headroom":
        rows = headroom(config, args.customers, seed)
        print(f"{'policy':<16} {'gain vs no_action':>18} {'95% CI':>20} {'contacts':>9}")
        for row in rows:
            ci = f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
            print(f"{row['policy']:<16} {row['gain']:>+18.2f} {ci:>20} {row['contacts']:>9.1f}")
    else:
        rows = levels(config, args.gan_checkpoint, args.customers, seed)
        print(f"{'world':<6} {'policy':<15} {'purchase wks':>12} {'repeat':>7} {'$/purchase wk':>13} "
              f"{'profit':>8}")
        for row in rows:
            print(f"{row['world']:<6} {row['policy']:<15} {row['purchase_weeks']:>12.3f} "
                  f"{row['repeat_share']:>7.3f} {row['revenue_per_purchase_week']:>13.2f} "
                  f"{row['profit']:>8.2f}")
    if args.json:
        write_json(args.json, {"command": args.command, "customers": args.customers,
                               "seed": seed, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
