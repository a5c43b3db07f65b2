"""Training the sim-to-real agents: one algorithm, several worlds, an optional support penalty.

The same agent settings (:class:`experiments.config.AgentConfig`) are trained in the GAN world
and in the ground truth, from simulator *instances* (the truth is the exact structural
configuration that wrote the log, which ``crmgym train``'s named simulators cannot express).
Models are built by :func:`agents.factory.build_model` and saved with
:func:`agents.persistence.save_model`, so ``crmgym evaluate`` can load them later.

:class:`SupportPenaltyVecEnv` subtracts the exploitation guard's penalty
(:meth:`gan_simulator.support.SupportProfile.penalty`) from the reward of every decision that
leaves the log's support, so a policy trained in the GAN world is discouraged from going
where the GAN never saw data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize

from agents.factory import build_model
from agents.persistence import ObsNormalizer, save_model
from agents.policies import TrainedPolicy
from crm_env import EnvConfig, make_vec_env
from experiments.config import AgentConfig
from gan_simulator.errors import ConfigError
from gan_simulator.support import SupportConfig, SupportProfile

__all__ = ["AgentTrainingConfig", "SupportPenaltyVecEnv", "train_agent"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentTrainingConfig:
    """How long and how each sim-to-real agent is trained.

    Attributes:
        total_timesteps: Customer-weeks of experience per agent.
        num_envs: Customers simulated side by side.
        normalize_observations: Wrap the env in ``VecNormalize`` (observations only); the
            statistics are saved with the model.
        device: Torch device of the networks.
        torch_threads: CPU threads torch may use (``0``: torch's default).
        progress_bar: Show SB3's progress bar.
        select_every: Steps between evaluations of the policy *in its own training world*;
            the best one is kept (``0``: keep the last policy). Selection never looks at
            another world, so an agent trained in the GAN world is chosen by its GAN-world
            profit only.
        select_customers: Customers per selection evaluation.
        select_seed: Root seed of the selection customers (apart from training and final
            evaluation seeds).
    """

    total_timesteps: int = 200_000
    num_envs: int = 64
    normalize_observations: bool = True
    device: str = "cpu"
    torch_threads: int = 1
    progress_bar: bool = False
    select_every: int = 0
    select_customers: int = 1000
    select_seed: int = 7_000_001

    def __post_init__(self) -> None:
        if self.select_every < 0:
            raise ConfigError(f"training.select_every={self.select_every} must be >= 0")
        for name in ("total_timesteps", "num_envs", "select_customers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"training.{name}={getattr(self, name)} must be >= 1")
        if self.torch_threads < 0:
            raise ConfigError(f"training.torch_threads={self.torch_threads} must be >= 0")


def _layout(venv: Any) -> Any:
    current = venv
    while current is not None and not hasattr(current, "layout"):
        current = getattr(current, "venv", None)
    if current is None:
        raise ConfigError("the support penalty needs a crm_env vector env underneath")
    return current.layout


class SupportPenaltyVecEnv(VecEnvWrapper):
    """Subtract a penalty from the reward of decisions outside the training log's support.

    The decision context is the ``contacts_last_4w`` profile feature of the observation the
    action was chosen on; ``infos[i]["support_penalty"]`` holds the dollars subtracted.

    Args:
        venv: A crm_env SB3 vector env (possibly under ``VecMonitor``).
        profile: The training log's support.
        config: Threshold and penalty in dollars.
        reward_scale: The env's ``reward_scale`` (penalties are scaled like rewards).
    """

    def __init__(self, venv: VecEnv, profile: SupportProfile, config: SupportConfig,
                 reward_scale: float = 1.0) -> None:
        super().__init__(venv)
        self.profile = profile
        self.config = config
        self.scale = reward_scale
        self.col = _layout(venv).profile_index("contacts_last_4w")
        self._recent = np.zeros(self.num_envs)
        self._actions = np.zeros(self.num_envs, dtype=np.int64)
        self.penalised = 0
        self.decisions = 0

    def reset(self) -> Any:
        """Reset and remember each customer's decision context."""
        obs = self.venv.reset()
        self._recent = np.asarray(obs["profile"])[:, self.col].copy()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions, then pass them on."""
        self._actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        self.venv.step_async(actions)

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step and subtract the penalty of the decisions just taken."""
        obs, reward, done, infos = self.venv.step_wait()
        pen = self.profile.penalty(self._recent, self._actions, self.config)
        self.penalised += int((pen > 0).sum())
        self.decisions += len(pen)
        for i, info in enumerate(infos):
            info["support_penalty"] = float(pen[i])
        self._recent = np.asarray(obs["profile"])[:, self.col].copy()
        return obs, reward - self.scale * pen.astype(np.float32), done, infos


class SelectBest(BaseCallback):
    """Every ``every`` steps, score the policy in its training world; remember the best.

    Scores are mean profit per customer of a deterministic rollout on ``customers`` fixed
    customers (``seed``) of ``simulator``; the best policy's weights and observation
    statistics are kept in memory and restored by :meth:`restore_best`.
    """

    def __init__(self, simulator: Any, env_config: EnvConfig, norm: VecNormalize | None,
                 every: int, customers: int, seed: int) -> None:
        super().__init__()
        self.simulator, self.env_config, self.norm = simulator, env_config, norm
        self.every, self.customers, self.seed = every, customers, seed
        self.best = -float("inf")
        self.best_step = -1
        self.scores: list[tuple[int, float]] = []
        self._best_weights: dict[str, torch.Tensor] | None = None
        self._best_norm: ObsNormalizer | None = None
        self._next = every

    def _normalizer(self) -> ObsNormalizer | None:
        return ObsNormalizer.from_vecnormalize(self.norm) if self.norm is not None else None

    def score(self) -> None:
        """Evaluate the current policy now and keep it if it is the best so far."""
        from experiments.rollout import rollout

        normalizer = self._normalizer()
        result = rollout(TrainedPolicy(self.model, normalizer), self.simulator,
                         self.env_config, self.customers, self.seed)
        value = float(np.mean(result.profit))
        self.scores.append((int(self.num_timesteps), value))
        if value > self.best:
            self.best, self.best_step = value, int(self.num_timesteps)
            self._best_weights = {k: v.detach().clone()
                                  for k, v in self.model.policy.state_dict().items()}
            self._best_norm = normalizer

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.every
            self.score()
        return True

    def restore_best(self) -> ObsNormalizer | None:
        """Load the best weights into the model; returns their observation statistics."""
        self.score()  # the last policy competes too
        if self._best_weights is not None:
            self.model.policy.load_state_dict(self._best_weights)
            return self._best_norm
        return self._normalizer()


def train_agent(simulator: Any, agent: AgentConfig, training: AgentTrainingConfig,
                env_config: EnvConfig, seed: int, out_dir: str | Path, name: str,
                penalty: tuple[SupportProfile, SupportConfig] | None = None) -> TrainedPolicy:
    """Train ``agent`` in the world of ``simulator`` and save it to ``out_dir/final_model``.

    Args:
        simulator: A simulator instance (GAN or structural).
        agent: Algorithm, extractor and hyperparameters.
        training: Steps, batch of customers, device.
        env_config: Environment settings (horizon, margin...).
        seed: Seed of the training customers and the networks.
        out_dir: Folder for TensorBoard logs and the saved model.
        name: Label of the policy in reports.
        penalty: Optional support profile and config: train with :class:`SupportPenaltyVecEnv`.

    Returns:
        The trained policy with its frozen observation normalisation.
    """
    out = Path(out_dir)
    if training.torch_threads:
        torch.set_num_threads(training.torch_threads)
    venv: VecEnv = make_vec_env(simulator, training.num_envs, seed, env_config)
    wrapper = None
    if penalty is not None:
        wrapper = SupportPenaltyVecEnv(venv, penalty[0], penalty[1], env_config.reward_scale)
        venv = wrapper
    norm = None
    if training.normalize_observations:
        gamma = float(agent.hyperparameters.get("gamma", 0.99))
        norm = VecNormalize(venv, norm_obs=True, norm_reward=False, gamma=gamma)
    env = norm if norm is not None else venv
    model = build_model(env, seed=seed, device=training.device,
                        tensorboard_log=str(out / "tensorboard"), **agent.model_spec())
    selector = None
    if training.select_every:
        selector = SelectBest(simulator, env_config, norm, training.select_every,
                              training.select_customers, training.select_seed)
    started = time.perf_counter()
    model.learn(total_timesteps=training.total_timesteps, tb_log_name=name,
                progress_bar=training.progress_bar, callback=selector)
    normalizer = ObsNormalizer.from_vecnormalize(norm) if norm is not None else None
    extra: dict[str, Any] = {"seed": seed, "name": name,
                             "simulator_fingerprint": simulator.fingerprint}
    if selector is not None:
        normalizer = selector.restore_best()
        extra["selected_step"] = selector.best_step
        extra["selection_scores"] = selector.scores
        logger.info("%s: kept the policy of step %d (%.2f $/customer in its training world)",
                    name, selector.best_step, selector.best)
    seconds = time.perf_counter() - started
    extra["seconds"] = seconds
    if wrapper is not None:
        extra["penalised_share"] = wrapper.penalised / max(wrapper.decisions, 1)
    save_model(model, out / "final_model", agent.model_spec(), normalizer, extra=extra)
    logger.info("trained %s for %d steps in %.0f s", name, training.total_timesteps, seconds)
    env.close()
    return TrainedPolicy(model, normalizer, name=name)
