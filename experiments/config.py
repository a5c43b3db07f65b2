"""Experiment configuration: frozen, documented dataclasses filled from YAML.

A config file has one section per dataclass below (every section and key is optional;
missing ones take the documented defaults)::

    name: ppo_gru
    data: {source: cdnow}
    simulator: {kind: structural}
    env: {horizon: 52, window: 8}                 # crm_env.config.EnvConfig
    agent: {algorithm: ppo, extractor: gru, extractor_kwargs: {hidden_size: 64}}
    training: {total_timesteps: 200000, num_envs: 64, seed: 0}
    evaluation: {every: 50000, n_customers: 2000, baseline: no_action}

An unknown key or a bad value raises :class:`~gan_simulator.errors.ConfigError` naming the
key, its value and what is allowed:

>>> load_config({"training": {"num_envs": 0}})
Traceback (most recent call last):
...
gan_simulator.errors.ConfigError: training.num_envs=0 must be a positive integer, e.g. 64
>>> load_config({"agent": {"algorithm": "sac"}})
Traceback (most recent call last):
...
gan_simulator.errors.ConfigError: agent.algorithm: unknown algorithm 'sac'; choose one of ppo, a2c, dqn, recurrent_ppo
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.factory import check_model_spec
from crm_env.config import EnvConfig
from gan_simulator.configuration import from_mapping, load_yaml, to_mapping
from gan_simulator.errors import ConfigError

__all__ = [
    "AgentConfig",
    "DataConfig",
    "EnvConfig",
    "EvaluationConfig",
    "ExperimentConfig",
    "SimulatorConfig",
    "TrainingConfig",
    "load_config",
]


def _positive_int(where: str, value: Any, example: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}={value!r} must be a positive integer, e.g. {example}")


def _non_negative_int(where: str, value: Any, example: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}={value!r} must be a non-negative integer, e.g. {example}")


@dataclass(frozen=True)
class DataConfig:
    """Where the customers the simulator imitates come from.

    Attributes:
        source: ``"cdnow"`` for the bundled CDNOW log, or the path of a CSV/Parquet log in the
            canonical schema (``customer_id``, ``timestamp``, ``amount``).
        freq: Period length of the panel: ``"W"`` (weeks, what the env steps in) or ``"M"``.
    """

    source: str = "cdnow"
    freq: Literal["W", "M"] = "W"

    def __post_init__(self) -> None:
        if not self.source:
            raise ConfigError("data.source='' must be 'cdnow' or the path of a transaction log")


@dataclass(frozen=True)
class SimulatorConfig:
    """Which customer simulator powers the environment.

    Attributes:
        kind: ``"structural"`` (the ground-truth world fitted to the data; fast, exposes latent
            state so the oracle works) or ``"gan"`` (the learned GAN simulator).
        checkpoint: GAN checkpoint folder; ``None`` uses the shipped CDNOW default.
        options: Keyword arguments handed to the simulator's constructor (plain data).
    """

    kind: Literal["structural", "gan"] = "structural"
    checkpoint: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("structural", "gan"):
            raise ConfigError(f"simulator.kind={self.kind!r}; choose 'structural' or 'gan'")
        if self.kind == "structural" and self.checkpoint is not None:
            raise ConfigError(
                f"simulator.checkpoint={self.checkpoint!r} is only used with kind 'gan'; remove it"
            )


@dataclass(frozen=True)
class AgentConfig:
    """The learning algorithm and its networks (see :mod:`agents.factory`).

    Attributes:
        algorithm: ``ppo``, ``a2c``, ``dqn`` or ``recurrent_ppo``.
        extractor: ``gru`` (HistoryGRU), ``cnn`` (HistoryCNN) or ``flatten`` (plain baseline).
        extractor_kwargs: Sizes of the extractor, e.g. ``{hidden_size: 64, features_dim: 128}``.
        policy_kwargs: Policy settings, e.g. ``{net_arch: [64, 64]}`` or ``{lstm_hidden_size: 64}``.
        hyperparameters: Keyword arguments of the SB3 algorithm, e.g. ``{learning_rate: 3e-4,
            n_steps: 52}``.
    """

    algorithm: str = "ppo"
    extractor: str = "gru"
    extractor_kwargs: dict[str, Any] = field(default_factory=dict)
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_model_spec(self.algorithm, self.extractor, self.extractor_kwargs,
                         self.policy_kwargs, self.hyperparameters)

    def model_spec(self) -> dict[str, Any]:
        """Keyword arguments for :func:`agents.factory.build_model` (plain data)."""
        return to_mapping(self)


@dataclass(frozen=True)
class TrainingConfig:
    """How long and how to train.

    Attributes:
        total_timesteps: Environment steps (customer-weeks) to train for.
        num_envs: Customers simulated side by side (the vector env's batch).
        seed: Root seed of the run: the env's customers and the networks' initialisation
            derive from it. ``crmgym train --seed`` overrides it.
        normalize_observations: Wrap the env in SB3 ``VecNormalize`` for observations; the
            statistics are saved with every model so inference sees what training saw.
        normalize_reward: Also scale rewards by a running estimate of the return's spread.
        checkpoint_every: Steps between resume checkpoints (``--resume`` loses at most this).
        keep_checkpoints: How many most recent checkpoints to keep on disk.
        kpi_every: Steps between training-KPI points written to TensorBoard.
        progress_bar: Show a progress bar while training.
        device: Torch device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``...
        torch_threads: CPU threads torch may use (``0``: torch's default).
        max_wall_minutes: Stop learning after this many minutes of wall time in one session
            (``0``: no limit); the final model and evaluation are still written.
    """

    total_timesteps: int = 200_000
    num_envs: int = 64
    seed: int = 0
    normalize_observations: bool = True
    normalize_reward: bool = False
    checkpoint_every: int = 50_000
    keep_checkpoints: int = 2
    kpi_every: int = 5_000
    progress_bar: bool = True
    device: str = "auto"
    torch_threads: int = 0
    max_wall_minutes: float = 0.0

    def __post_init__(self) -> None:
        if not self.max_wall_minutes >= 0:
            raise ConfigError(
                f"training.max_wall_minutes={self.max_wall_minutes!r} must be >= 0 (0: no limit)"
            )
        _positive_int("training.total_timesteps", self.total_timesteps, 200_000)
        _positive_int("training.num_envs", self.num_envs, 64)
        _non_negative_int("training.seed", self.seed, 0)
        _positive_int("training.checkpoint_every", self.checkpoint_every, 50_000)
        _positive_int("training.keep_checkpoints", self.keep_checkpoints, 2)
        _positive_int("training.kpi_every", self.kpi_every, 5_000)
        _non_negative_int("training.torch_threads", self.torch_threads, 1)
        if not self.device or self.device.split(":")[0] not in ("auto", "cpu", "cuda", "mps"):
            raise ConfigError(
                f"training.device={self.device!r}; choose auto, cpu, cuda, cuda:N or mps"
            )


@dataclass(frozen=True)
class EvaluationConfig:
    """Periodic and final evaluation on fresh simulated customers.

    Every evaluation runs the policy and the ``baseline`` on the *same* customers with the
    same luck (common random numbers) and logs both, plus their paired difference.

    Attributes:
        every: Steps between evaluations during training (``0``: only at the end).
        n_customers: Customers per periodic evaluation.
        final_customers: Customers in the final evaluation written to ``train_summary.json``.
        seed: Root seed of the evaluation customers; kept apart from the training seed so
            the agent is judged on customers it never met.
        baseline: Policy spec of the comparison (see :func:`agents.policies.load_policy`),
            e.g. ``no_action`` or ``rfm_rule``.
        deterministic: Evaluate the learned policy's most likely action (not a sample).
        keep_best: Save the policy with the best periodic-evaluation profit as
            ``best_model/`` (PPO on this problem oscillates between good and poor policies;
            this is model selection on the evaluation customers, so judge the kept model on
            other customers, e.g. ``crmgym evaluate --seed`` with another seed).
    """

    every: int = 50_000
    n_customers: int = 1_000
    final_customers: int = 2_000
    seed: int = 1_000_003
    baseline: str = "no_action"
    deterministic: bool = True
    keep_best: bool = True

    def __post_init__(self) -> None:
        _non_negative_int("evaluation.every", self.every, 50_000)
        _positive_int("evaluation.n_customers", self.n_customers, 1_000)
        _non_negative_int("evaluation.final_customers", self.final_customers, 10_000)
        _non_negative_int("evaluation.seed", self.seed, 1_000_003)
        if not self.baseline:
            raise ConfigError("evaluation.baseline='' must name a policy, e.g. 'no_action'")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole training experiment.

    Attributes:
        name: Short label used in run-folder names and reports.
        data: :class:`DataConfig`.
        simulator: :class:`SimulatorConfig`.
        env: ``crm_env.config.EnvConfig`` (its ``seed`` is set from ``training.seed``).
        agent: :class:`AgentConfig`.
        training: :class:`TrainingConfig`.
        evaluation: :class:`EvaluationConfig`.
    """

    name: str = "experiment"
    data: DataConfig = field(default_factory=DataConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(
                f"name={self.name!r} must be a plain label of letters, digits, '-' and '_'"
            )

    def with_overrides(self, seed: int | None = None, device: str | None = None) -> ExperimentConfig:
        """A copy with the command-line overrides applied (validated like the file)."""
        training = self.training
        if seed is not None:
            training = from_mapping(TrainingConfig, {**to_mapping(training), "seed": seed},
                                    "training")
        if device is not None:
            training = from_mapping(TrainingConfig, {**to_mapping(training), "device": device},
                                    "training")
        return dataclasses.replace(self, training=training)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (what ``config.yaml`` in the run folder holds)."""
        return to_mapping(self)


def load_config(source: str | Path | Mapping[str, Any]) -> ExperimentConfig:
    """Load an :class:`ExperimentConfig` from a YAML file or a mapping.

    Raises:
        ConfigError: for a missing file, invalid YAML, an unknown key or a bad value.
    """
    data = source if isinstance(source, Mapping) else load_yaml(source)
    return from_mapping(ExperimentConfig, data, "config")
