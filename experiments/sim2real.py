"""Sim-to-real validation: does a policy learned in the GAN world work in the real one?

The "real" world is the structural ground truth (:mod:`gan_simulator.structural`), whose
action effects are known. One run, top to bottom:

1. **Log.** The truth runs a logging policy with known propensities
   (:mod:`gan_simulator.campaign_log`); the transaction log and the campaign log are written
   as CSV and read back through the data pipeline into a weekly panel.
2. **GAN.** The action-conditioned GAN is trained on that panel
   (:func:`gan_simulator.training.train_gan`); its estimated action effects are reported next
   to the truth's (:mod:`gan_simulator.effects`).
3. **Agents.** The same algorithm is trained in the GAN world (``agent_gan``), in the truth
   (``agent_truth``, the reference) and, optionally, in the GAN world with the support penalty
   (``agent_gan_penalised``).
4. **Judgement.** Every policy (agents, heuristics, and the oracle that reads the truth's
   latent state) is evaluated on the same truth customers with common random numbers
   (:func:`experiments.evaluation.evaluate`); all but the oracle are also evaluated in the GAN
   world, for the Spearman correlation of the two rankings. The exploitation guard
   (:mod:`gan_simulator.support`) scores every policy's decisions in the GAN world.

Outputs in the run folder: ``sim2real.json``, ``report.md``, plots, ``config.yaml``, the logs
(``log/``), the GAN (``gan/``), the agents (``agents/``) and both worlds' full evaluation
reports (``truth_evaluation/``, ``gan_evaluation/``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.stats import spearmanr

from crm_env import EnvConfig
from experiments.config import AgentConfig
from experiments.evaluation import Evaluation, evaluate
from experiments.evaluation_report import write_evaluation
from experiments.sim2real_agents import AgentTrainingConfig, train_agent
from experiments.stats import paired_difference_ci
from gan_simulator.campaign_log import CampaignLogConfig, CohortSimulator, generate_campaign_log
from gan_simulator.configuration import from_mapping, load_yaml, to_mapping
from gan_simulator.data import build_panel, read_transactions
from gan_simulator.effects import effects_from_log
from gan_simulator.errors import ConfigError
from gan_simulator.io import write_json, write_text
from gan_simulator.structural import StructuralConfig, StructuralSimulator
from gan_simulator.support import SupportConfig, SupportProfile, support_report
from gan_simulator.training import GanConfig, train_gan

__all__ = ["Sim2RealConfig", "Sim2RealEvaluationConfig", "load_sim2real_config", "run_sim2real"]

logger = logging.getLogger(__name__)

AGENT_GAN, AGENT_TRUTH, AGENT_PENALISED = "agent_gan", "agent_truth", "agent_gan_penalised"
TARGET_RATIO = 0.9
TARGET_SPEARMAN = 0.9
TARGET_MINUTES = 60.0


@dataclass(frozen=True)
class Sim2RealEvaluationConfig:
    """How the policies are judged.

    Attributes:
        customers: Customers per policy and world (all policies meet the same ones).
        seed: Root seed of the evaluation customers (kept apart from training seeds).
        heuristics: Observation-based policy specs (see :mod:`agents.policies`): the same
            decision rule in both worlds. The GAN-trained agent must beat each of them.
        model_based: Policies that consult the model of the world they act in
            (``myopic_uplift`` calls ``expected_week``): in the truth they read the true
            latent state, in the GAN world the GAN's beliefs, so they are different rules in
            the two worlds. They are evaluated and compared, but kept out of the
            "beats every heuristic" target and of the main ranking.
        oracle: Also evaluate the oracle in the truth (it needs the latent state, so it has
            no GAN-world value and is left out of the ranking).
        n_boot: Bootstrap resamples per confidence interval.
    """

    customers: int = 5000
    seed: int = 1_000_003
    heuristics: tuple[str, ...] = ("no_action", "random", "always:email", "always:discount_10",
                                   "always:discount_25", "always:loyalty_perk", "rfm_rule")
    model_based: tuple[str, ...] = ("myopic_uplift",)
    oracle: bool = True
    n_boot: int = 1000

    def __post_init__(self) -> None:
        if self.customers < 2:
            raise ConfigError(f"evaluation.customers={self.customers} must be >= 2")
        if "no_action" not in self.heuristics:
            raise ConfigError("evaluation.heuristics must include 'no_action' (the baseline)")
        if self.n_boot < 10:
            raise ConfigError(f"evaluation.n_boot={self.n_boot} must be >= 10")


@dataclass(frozen=True)
class Sim2RealConfig:
    """A whole sim-to-real run (``experiments/configs/sim2real.yaml``).

    Attributes:
        name: Label of the run.
        seed: Seed of the agents' training customers and networks.
        structural: The ground-truth world: the log is written and every policy judged in it.
        log: Size, cohorts and logging policy of the campaign history.
        gan: GAN network sizes and training schedule.
        env: Environment settings shared by both worlds.
        agent: The algorithm trained in both worlds.
        training: Steps and batch of customers per agent.
        evaluation: Customers, seed and heuristics of the judgement.
        support: The exploitation guard's thresholds and penalty.
        penalised_agent: Also train an agent in the GAN world with the support penalty.
    """

    name: str = "sim2real"
    seed: int = 0
    structural: StructuralConfig = field(default_factory=StructuralConfig)
    log: CampaignLogConfig = field(default_factory=CampaignLogConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    training: AgentTrainingConfig = field(default_factory=AgentTrainingConfig)
    evaluation: Sim2RealEvaluationConfig = field(default_factory=Sim2RealEvaluationConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    penalised_agent: bool = True


def load_sim2real_config(source: str | Path | dict[str, Any]) -> Sim2RealConfig:
    """Load a :class:`Sim2RealConfig` from YAML or a mapping (unknown keys are refused)."""
    data = source if isinstance(source, dict) else load_yaml(source)
    return from_mapping(Sim2RealConfig, data, "sim2real")


def _log_panel(config: Sim2RealConfig, truth: StructuralSimulator, out: Path) -> tuple[Any, Any, dict]:
    """Write the campaign history and read it back through the data pipeline."""
    log = generate_campaign_log(truth, config.log)
    paths = log.write(out / "log", "csv")
    frame = read_transactions(paths["transactions"], catalog=truth.catalog)
    end = log.origin + np.timedelta64(7 * log.weeks - 1, "D")
    panel = build_panel(frame, origin=log.origin, end=end, catalog=truth.catalog)
    if not np.array_equal(panel.actions, log.action_matrix()):
        raise ConfigError("the logged actions did not survive the round trip through the data "
                          "pipeline; report this as a bug")
    info = {"customers": panel.n_customers, "weeks": panel.n_periods,
            "transaction_rows": int(len(frame)),
            "treated_customer_weeks": int((log.campaign["action"] != "none").sum()),
            "purchase_rate": float(panel.feature("purchased")[panel.mask].mean()),
            "policy": config.log.policy.kind,
            "files": {k: str(v) for k, v in paths.items()}}
    return log, panel, info


def _value(ev: Evaluation | None, name: str) -> dict[str, float] | None:
    if ev is None or name not in ev.summary["policies"]:
        return None
    return ev.summary["policies"][name]["profit_per_customer"]


def _spearman(a: dict[str, float], b: dict[str, float], names: list[str]) -> float | None:
    if len(names) < 3:
        return None
    rho = spearmanr([a[n] for n in names], [b[n] for n in names]).statistic
    return None if rho is None or np.isnan(rho) else float(rho)


def _judgement(ev_truth: Evaluation, ev_gan: Evaluation, heuristics: list[str],
               model_based: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    """Headline numbers: ratio, paired differences against heuristics, Spearman."""
    truth_mean = {n: v["profit_per_customer"]["mean"] for n, v in ev_truth.summary["policies"].items()}
    gan_mean = {n: v["profit_per_customer"]["mean"] for n, v in ev_gan.summary["policies"].items()}
    base = truth_mean["no_action"]
    ratio = truth_mean[AGENT_GAN] / truth_mean[AGENT_TRUTH] if truth_mean[AGENT_TRUTH] else None
    gain_ref = truth_mean[AGENT_TRUTH] - base
    incremental = (truth_mean[AGENT_GAN] - base) / gain_ref if gain_ref > 0 else None
    gan_profit = ev_truth.rollouts[AGENT_GAN].profit
    def vs(names: list[str]) -> dict[str, dict[str, float]]:
        return {h: paired_difference_ci(gan_profit, ev_truth.rollouts[h].profit, n_boot=n_boot,
                                        seed=seed).to_dict() for h in names}

    paired = vs(heuristics)
    penalised = (truth_mean[AGENT_PENALISED] / truth_mean[AGENT_TRUTH]
                 if AGENT_PENALISED in truth_mean and truth_mean[AGENT_TRUTH] else None)
    ranked = [n for n in gan_mean if n in truth_mean and n not in model_based]
    both = [n for n in gan_mean if n in truth_mean]
    return {
        "ratio_gan_policy_to_truth_policy": ratio,
        "incremental_ratio_over_no_action": incremental,
        "ratio_penalised_gan_policy_to_truth_policy": penalised,
        "spearman_policy_ranking": _spearman(gan_mean, truth_mean, ranked),
        "ranked_policies": ranked,
        "spearman_including_model_based": _spearman(gan_mean, truth_mean, both),
        "agent_gan_vs_heuristics": paired,
        "beats_every_heuristic": all(p["ci_low"] > 0 for p in paired.values()),
        "agent_gan_vs_model_based": vs(model_based),
    }


def run_sim2real(config: Sim2RealConfig, out_dir: str | Path, progress: bool = False) -> dict[str, Any]:
    """Run the whole pipeline (see the module docstring) and write its outputs.

    Args:
        config: The run's settings.
        out_dir: Run folder (created).
        progress: Show progress bars of GAN training and evaluation.

    Returns:
        The contents of ``sim2real.json``.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", yaml.safe_dump(to_mapping(config), sort_keys=False))
    seconds: dict[str, float] = {}

    def lap(stage: str, start: float) -> float:
        seconds[stage] = time.perf_counter() - start
        logger.info("sim2real: %s done in %.1f s", stage, seconds[stage])
        return time.perf_counter()

    t = time.perf_counter()
    truth = StructuralSimulator(config.structural)
    log, panel, log_info = _log_panel(config, truth, out)
    t = lap("log", t)

    from gan_simulator.simulator import GANSimulator

    gan_run = train_gan(panel, config.gan, out / "gan", progress=progress)
    gan = GANSimulator.load(gan_run.checkpoint)
    effects = effects_from_log(gan, log, truth)
    write_json(out / "effects.json", effects)
    t = lap("gan", t)

    truth_world = CohortSimulator(truth, config.log.cohort_weights)
    profile = SupportProfile.from_panel(panel, truth.catalog)
    common = {"agent": config.agent, "training": config.training, "env_config": config.env,
              "seed": config.seed}
    trained = {AGENT_GAN: train_agent(gan, **common, out_dir=out / "agents" / AGENT_GAN,
                                      name=AGENT_GAN)}
    t = lap(AGENT_GAN, t)
    trained[AGENT_TRUTH] = train_agent(truth_world, **common, out_dir=out / "agents" / AGENT_TRUTH,
                                       name=AGENT_TRUTH)
    t = lap(AGENT_TRUTH, t)
    if config.penalised_agent and config.support.penalty > 0:
        trained[AGENT_PENALISED] = train_agent(
            gan, **common, out_dir=out / "agents" / AGENT_PENALISED, name=AGENT_PENALISED,
            penalty=(profile, config.support))
        t = lap(AGENT_PENALISED, t)

    ev = config.evaluation
    policies: dict[str, Any] = {name: (lambda env, p=pol: p) for name, pol in trained.items()}
    policies.update({h: h for h in (*ev.heuristics, *ev.model_based)})
    truth_policies = dict(policies, **({"oracle": "oracle"} if ev.oracle else {}))
    ev_truth = evaluate(truth_world, truth_policies, ev.customers, ev.seed, "no_action",
                        config.env, ev.n_boot, progress)
    ev_gan = evaluate(gan, policies, ev.customers, ev.seed, "no_action", config.env, ev.n_boot,
                      progress)
    write_evaluation(ev_truth, out / "truth_evaluation", "Policies judged in the ground truth")
    write_evaluation(ev_gan, out / "gan_evaluation", "Policies in the GAN world")
    t = lap("evaluation", t)

    judgement = _judgement(ev_truth, ev_gan, list(ev.heuristics), list(ev.model_based),
                           ev.n_boot, ev.seed)
    support = {name: support_report(r.actions, profile, config.support)
               for name, r in ev_gan.rollouts.items()}
    per_policy = {
        name: {"truth_profit_per_customer": _value(ev_truth, name),
               "gan_profit_per_customer": _value(ev_gan, name),
               "truth_paired_vs_no_action": ev_truth.summary["paired"][name]["profit_per_customer"],
               "support_flagged": support[name]["flagged"] if name in support else None}
        for name in truth_policies
    }
    total = time.perf_counter() - t0
    result: dict[str, Any] = {
        "name": config.name,
        **judgement,
        "targets": _targets(judgement, total),
        "policies": per_policy,
        "effects": effects,
        "support": {"log_profile": profile.to_dict(), "policies": support},
        "log": log_info,
        "gan": {"checkpoint": str(gan_run.checkpoint), "epochs": gan_run.epochs_run,
                "validation_nll": gan_run.best_score, "learned_actions": gan.learned_actions,
                "fingerprint": gan.fingerprint},
        "truth": {"fingerprint": truth.fingerprint},
        "evaluation": {"customers": ev.customers, "seed": ev.seed, "horizon": config.env.horizon},
        "seconds": {**seconds, "total": total},
    }
    write_json(out / "sim2real.json", result)
    from experiments.sim2real_report import write_report

    write_report(result, out)
    return result


def _targets(j: dict[str, Any], seconds: float) -> dict[str, Any]:
    ratio, rho = j["ratio_gan_policy_to_truth_policy"], j["spearman_policy_ranking"]
    pen = j.get("ratio_penalised_gan_policy_to_truth_policy")
    return {
        "ratio_at_least_0.9": {"value": ratio, "met": ratio is not None and ratio >= TARGET_RATIO},
        **({"ratio_at_least_0.9_with_support_penalty": {
            "value": pen, "met": pen >= TARGET_RATIO}} if pen is not None else {}),
        "beats_every_heuristic_paired_ci": {"value": j["beats_every_heuristic"],
                                            "met": bool(j["beats_every_heuristic"])},
        "spearman_at_least_0.9": {"value": rho, "met": rho is not None and rho >= TARGET_SPEARMAN},
        "minutes_at_most_60": {"value": seconds / 60.0, "met": seconds / 60.0 <= TARGET_MINUTES},
    }
