"""One training run, readable top to bottom: config -> env -> model -> callbacks -> learn.

A run folder holds::

    config.yaml           the resolved config (every default filled in)
    run.json              seeds, package versions, device, simulator fingerprint, command
    tensorboard/          SB3's metrics plus train_kpi/ and eval/ business KPIs
    checkpoints/step_*/   resume checkpoints (see agents.persistence), newest kept
    evaluations.json      every periodic evaluation (KPIs, paired difference vs baseline)
    final_model/          the trained policy (safetensors + JSON)
    best_model/           the policy of the best periodic evaluation (``evaluation.keep_best``)
    train_summary.json    steps, wall time, fps and the final evaluation

``--resume`` reloads the newest checkpoint (model, optimiser, VecNormalize statistics, step
counter, RNG states) and continues to ``training.total_timesteps``, losing at most one
checkpoint interval of work.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from agents.factory import build_model
from agents.persistence import ObsNormalizer, load_checkpoint, save_checkpoint, save_model
from agents.policies import TrainedPolicy
from experiments.config import ExperimentConfig
from experiments.rollout import ACTIVE_WEEKS, RolloutResult, compare, rollout
from gan_simulator.errors import ConfigError
from gan_simulator.io import write_json, write_text

__all__ = ["TrainResult", "latest_checkpoint", "make_training_env", "simulator_spec", "train"]

logger = logging.getLogger(__name__)


def simulator_spec(config: ExperimentConfig) -> Any:
    """What ``CRMVectorEnv(simulator=...)`` gets for this config (a name or a path)."""
    sim = config.simulator
    if sim.kind == "gan" and sim.checkpoint:
        return sim.checkpoint
    return sim.kind


def make_training_env(config: ExperimentConfig, seed: int) -> tuple[VecEnv, VecNormalize | None]:
    """The SB3 vector env of a run, wrapped in ``VecNormalize`` when the config asks.

    Returns:
        ``(env to train on, the VecNormalize wrapper or None)``.
    """
    from crm_env import make_vec_env

    venv = make_vec_env(simulator_spec(config), config.training.num_envs, seed, config.env)
    if not config.training.normalize_observations and not config.training.normalize_reward:
        return venv, None
    gamma = float(config.agent.hyperparameters.get("gamma", 0.99))
    norm = VecNormalize(
        venv,
        norm_obs=config.training.normalize_observations,
        norm_reward=config.training.normalize_reward,
        gamma=gamma,
    )
    return norm, norm


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder of a run, or None."""
    folder = Path(run_dir) / "checkpoints"
    done = [p for p in folder.glob("step_*") if (p / "progress.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("_")[1])) if done else None


def _base_vec_env(env: VecEnv) -> Any:
    """The crm_env SB3 adapter (with ``last_info`` and ``catalog``) under SB3 wrappers."""
    current: Any = env
    while not hasattr(current, "last_info"):
        inner = getattr(current, "venv", None)
        if inner is None:
            raise ConfigError(f"{type(env).__name__} is not a crm_env vector env")
        current = inner
    return current


class KPICallback(BaseCallback):
    """Business KPIs of the customers finished during training, logged under ``train_kpi/``.

    Reads the batched ``info`` of every step from the crm_env adapter (``last_info``), so
    it costs a few array operations per step, not a loop over customers.

    Args:
        every: Steps between TensorBoard points.
    """

    _PARTS = ("profit", "revenue", "incentive_cost", "contacts", "purchases", "weeks")

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self._last = 0

    def _on_training_start(self) -> None:
        self.base = _base_vec_env(self.training_env)
        n = self.base.num_envs
        self.contact = np.array([a.is_contact for a in self.base.catalog.actions], dtype=np.float64)
        self.run = {k: np.zeros(n) for k in self._PARTS}
        self.last_buy = np.full(n, -1.0)
        self.done: dict[str, list[np.ndarray]] = {k: [] for k in (*self._PARTS, "active")}
        self._last = self.num_timesteps

    def _on_step(self) -> bool:
        info = self.base.last_info
        dones = np.asarray(self.locals["dones"], dtype=bool)
        r = self.run
        r["profit"] += info["revenue"] - info["cogs"] - info["contact_cost"] - info["incentive_cost"]
        r["revenue"] += info["revenue"]
        r["incentive_cost"] += info["incentive_cost"]
        r["contacts"] += self.contact[np.asarray(info["action"], dtype=np.int64)]
        bought = np.asarray(info["purchased"], dtype=bool)
        r["purchases"] += bought
        self.last_buy = np.where(bought, r["weeks"], self.last_buy)
        r["weeks"] += 1
        if dones.any():
            for key, arr in r.items():
                self.done[key].append(arr[dones].copy())
                arr[dones] = 0.0
            weeks = self.done["weeks"][-1]
            last = self.last_buy[dones]
            self.done["active"].append((last >= 0) & (last >= weeks - np.minimum(ACTIVE_WEEKS, weeks)))
            self.last_buy[dones] = -1.0
        if self.num_timesteps - self._last >= self.every and self.done["weeks"]:
            self._last = self.num_timesteps
            d = {k: np.concatenate(v) for k, v in self.done.items()}
            self.logger.record("train_kpi/profit_per_customer", float(d["profit"].mean()))
            self.logger.record("train_kpi/revenue_per_customer", float(d["revenue"].mean()))
            self.logger.record("train_kpi/incentive_cost_per_customer", float(d["incentive_cost"].mean()))
            self.logger.record("train_kpi/contacts_per_customer", float(d["contacts"].mean()))
            self.logger.record("train_kpi/purchase_rate", float(d["purchases"].sum() / d["weeks"].sum()))
            self.logger.record("train_kpi/share_active_at_end", float(d["active"].mean()))
            self.logger.record("train_kpi/customers_finished", int(len(d["weeks"])))
            self.done = {k: [] for k in self.done}
        return True


class EvalCallback(BaseCallback):
    """Periodic evaluation on fresh customers against a baseline, logged under ``eval/``.

    Args:
        config: The experiment.
        run_dir: The run folder (``evaluations.json`` goes there).
        norm: The training ``VecNormalize`` whose observation statistics the policy needs.
        history: Earlier evaluations (kept on resume).
        simulator: The training env's simulator instance (simulators keep no state of their
            own, so evaluation shares it instead of loading it again).
    """

    def __init__(self, config: ExperimentConfig, run_dir: Path, norm: VecNormalize | None,
                 history: list[dict[str, Any]], simulator: Any = None) -> None:
        super().__init__()
        self.config = config
        self.simulator = simulator if simulator is not None else simulator_spec(config)
        self.run_dir = run_dir
        self.norm = norm
        self.history = history
        self._baseline: RolloutResult | None = None
        self._next = 0
        periodic = [h["agent"]["profit_per_customer"] for h in history
                    if h["n_customers"] == config.evaluation.n_customers]
        self.best = max(periodic, default=-float("inf"))

    def _on_training_start(self) -> None:
        every = self.config.evaluation.every
        self._next = (self.num_timesteps // every + 1) * every if every else sys.maxsize

    def evaluate(self, n_customers: int) -> dict[str, Any]:
        """Roll out the current policy and the baseline on the same customers."""
        ev = self.config.evaluation
        policy = TrainedPolicy(self.model, ObsNormalizer.from_vecnormalize(self.norm)
                               if self.norm else None)
        agent = rollout(policy, self.simulator, self.config.env, n_customers,
                        ev.seed, deterministic=ev.deterministic)
        if self._baseline is None or self._baseline.n_customers != n_customers:
            self._baseline = rollout(ev.baseline, self.simulator, self.config.env,
                                     n_customers, ev.seed)
        table = compare({"agent": agent, ev.baseline: self._baseline}, ev.baseline)
        return {"step": int(self.num_timesteps), "n_customers": n_customers,
                "agent": table["agent"], "baseline": table[ev.baseline],
                "baseline_name": ev.baseline}

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.config.evaluation.every
            result = self.evaluate(self.config.evaluation.n_customers)
            self.record(result)
            profit = result["agent"]["profit_per_customer"]
            if self.config.evaluation.keep_best and profit > self.best:
                self.best = profit
                self.save_best(result["step"])
        return True

    def save_best(self, step: int) -> None:
        """Write the current policy to ``best_model/`` (atomically: a temporary folder, renamed)."""
        normalizer = ObsNormalizer.from_vecnormalize(self.norm) if self.norm else None
        tmp = self.run_dir / ".best_model.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        save_model(self.model, tmp, self.config.agent.model_spec(), normalizer,
                   extra={"seed": self.config.training.seed, "name": self.config.name,
                          "step": step, "selected_by": "periodic evaluation profit"})
        shutil.rmtree(self.run_dir / "best_model", ignore_errors=True)
        tmp.rename(self.run_dir / "best_model")
        logger.info("step %d: best periodic evaluation so far -> best_model/", step)

    def record(self, result: dict[str, Any]) -> None:
        """Log one evaluation to TensorBoard and ``evaluations.json``."""
        for key, value in result["agent"].items():
            self.logger.record(f"eval/{key}", value)
        self.logger.record("eval/baseline_profit_per_customer",
                           result["baseline"]["profit_per_customer"])
        self.logger.dump(self.num_timesteps)
        self.history.append(result)
        write_json(self.run_dir / "evaluations.json", self.history)
        logger.info("step %d: profit/customer %.3f (baseline %s %.3f)", result["step"],
                    result["agent"]["profit_per_customer"], result["baseline_name"],
                    result["baseline"]["profit_per_customer"])


class CheckpointCallback(BaseCallback):
    """Resume checkpoints every ``checkpoint_every`` steps, keeping the newest few."""

    def __init__(self, config: ExperimentConfig, run_dir: Path, norm: VecNormalize | None) -> None:
        super().__init__()
        self.config = config
        self.folder = run_dir / "checkpoints"
        self.norm = norm
        self._next = 0

    def _on_training_start(self) -> None:
        every = self.config.training.checkpoint_every
        self._next = (self.num_timesteps // every + 1) * every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.config.training.checkpoint_every
            self.save()
        return True

    def save(self) -> Path:
        """Write a checkpoint now and prune old ones."""
        path = self.folder / f"step_{self.num_timesteps:012d}"
        tmp = self.folder / f".partial_{self.num_timesteps:012d}"
        shutil.rmtree(tmp, ignore_errors=True)
        save_checkpoint(self.model, tmp, self.config.agent.model_spec(), self.norm,
                        extra={"seed": self.config.training.seed})
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)  # a checkpoint folder appears only once complete
        done = sorted(self.folder.glob("step_*"), key=lambda p: int(p.name.split("_")[1]))
        for old in done[: -self.config.training.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
        logger.debug("checkpoint %s", path)
        return path


class WallClockLimit(BaseCallback):
    """Stop learning once ``minutes`` of wall time have passed (``0``: never)."""

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.seconds = minutes * 60.0
        self.start = time.perf_counter()
        self.stopped = False

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.seconds and time.perf_counter() - self.start > self.seconds:
            logger.info("wall-time limit of %.1f min reached at step %d", self.seconds / 60,
                        self.num_timesteps)
            self.stopped = True
            return False
        return True


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` produced.

    Attributes:
        run_dir: The run folder.
        summary: Contents of ``train_summary.json``.
    """

    run_dir: Path
    summary: dict[str, Any]


def _versions() -> dict[str, str]:
    import gymnasium
    import sb3_contrib
    import stable_baselines3

    import gan_simulator

    return {"crmgym": gan_simulator.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__,
            "gymnasium": gymnasium.__version__, "stable_baselines3": stable_baselines3.__version__,
            "sb3_contrib": sb3_contrib.__version__}


def _prepare_run_dir(run_dir: Path, config: ExperimentConfig, resume: bool) -> Path | None:
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume:
        if checkpoint is None:
            raise ConfigError(
                f"--resume: {str(run_dir)!r} holds no checkpoint to resume from; start a new "
                "run without --resume"
            )
        saved = run_dir / "config.yaml"
        if saved.is_file() and yaml.safe_load(saved.read_text()) != config.to_dict():
            raise ConfigError(
                f"--resume: the config differs from the one {str(run_dir)!r} was started with; "
                "resume with the same config file, --seed and --device"
            )
    elif (run_dir / "checkpoints").exists() or (run_dir / "train_summary.json").exists():
        raise ConfigError(
            f"run folder {str(run_dir)!r} already holds a run; pass --resume to continue it "
            "or choose another --out"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return checkpoint


def train(config: ExperimentConfig, run_dir: str | Path, resume: bool = False,
          argv: list[str] | None = None) -> TrainResult:
    """Train the configured agent in ``run_dir``; see the module docstring for the outputs.

    Raises:
        ConfigError: for an occupied run folder without ``resume``, or ``resume`` without a
            checkpoint or with a different config.
    """
    run = Path(run_dir)
    tc, ev = config.training, config.evaluation
    checkpoint = _prepare_run_dir(run, config, resume)
    if tc.torch_threads:
        torch.set_num_threads(tc.torch_threads)
    write_text(run / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))

    env_seed = tc.seed if checkpoint is None else tc.seed + int(checkpoint.name.split("_")[1])
    env, norm = make_training_env(config, env_seed)
    if checkpoint is None:
        model = build_model(env, seed=tc.seed, device=tc.device,
                            tensorboard_log=str(run / "tensorboard"), **config.agent.model_spec())
        start_steps = 0
    else:
        model, progress = load_checkpoint(checkpoint, env, tc.device, vecnormalize=norm)
        model.tensorboard_log = str(run / "tensorboard")
        start_steps = int(progress["num_timesteps"])
        logger.info("resuming from %s at step %d", checkpoint, start_steps)
    fingerprint = _base_vec_env(env).simulator.fingerprint
    info = {
        "name": config.name, "seed": tc.seed, "env_seed": env_seed,
        "evaluation_seed": ev.seed, "device": str(model.device),
        "simulator": config.simulator.kind, "simulator_fingerprint": fingerprint,
        "start_steps": start_steps, "command": argv, "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if checkpoint is None:
        write_json(run / "run.json", {**info, "resumes": []})
    else:
        record = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
        record.setdefault("resumes", []).append({**info, "checkpoint": str(checkpoint)})
        write_json(run / "run.json", record)

    history_path = run / "evaluations.json"
    history = json.loads(history_path.read_text()) if resume and history_path.is_file() else []
    history = [h for h in history if h["step"] <= start_steps]
    evaluator = EvalCallback(config, run, norm, history, _base_vec_env(env).simulator)
    checkpointer = CheckpointCallback(config, run, norm)
    limit = WallClockLimit(tc.max_wall_minutes)
    callbacks = CallbackList([KPICallback(tc.kpi_every), evaluator, checkpointer, limit])

    remaining = tc.total_timesteps - start_steps
    started = time.perf_counter()
    if remaining > 0:
        model.learn(total_timesteps=remaining, callback=callbacks, tb_log_name="sb3",
                    reset_num_timesteps=checkpoint is None, progress_bar=tc.progress_bar)
    wall = time.perf_counter() - started
    checkpointer.save()
    normalizer = ObsNormalizer.from_vecnormalize(norm) if norm else None
    save_model(model, run / "final_model", config.agent.model_spec(), normalizer,
               extra={"seed": tc.seed, "name": config.name})

    final = None
    if ev.final_customers:
        final = evaluator.evaluate(ev.final_customers)
        evaluator.record(final)
    summary = {
        "name": config.name, "algorithm": config.agent.algorithm,
        "extractor": config.agent.extractor, "seed": tc.seed,
        "total_timesteps": int(model.num_timesteps), "resumed_from_step": start_steps,
        "stopped_by_wall_time_limit": limit.stopped,
        "wall_seconds_this_session": wall,
        "fps_this_session": (int(model.num_timesteps) - start_steps) / wall if wall > 0 else None,
        "final_model": str(run / "final_model"), "final_evaluation": final,
        "best_model": str(run / "best_model") if (run / "best_model").is_dir() else None,
        "best_periodic_profit_per_customer": (evaluator.best if evaluator.best > -float("inf")
                                              else None),
    }
    write_json(run / "train_summary.json", summary)
    env.close()
    return TrainResult(run, summary)
