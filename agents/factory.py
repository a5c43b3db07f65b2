"""The one place that maps algorithm and extractor names to classes.

Every other module asks this one for a model (:func:`build_model`) or for facts about an
algorithm (:func:`algorithm_info`), so adding an algorithm means adding one row here.

==================  ======================================  ===========================
name                class                                   policy
==================  ======================================  ===========================
``ppo``             ``stable_baselines3.PPO``               ``MultiInputPolicy``
``a2c``             ``stable_baselines3.A2C``               ``MultiInputPolicy``
``dqn``             ``stable_baselines3.DQN``               ``MultiInputPolicy``
``recurrent_ppo``   ``sb3_contrib.RecurrentPPO``            ``MultiInputLstmPolicy``
==================  ======================================  ===========================

Extractors: ``cnn`` (:class:`~agents.extractors.HistoryCNN`), ``gru``
(:class:`~agents.extractors.HistoryGRU`) and ``flatten`` (SB3's ``CombinedExtractor``, a
plain baseline that flattens both entries).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor
from stable_baselines3.common.vec_env import VecEnv

from agents.extractors import HistoryCNN, HistoryGRU
from gan_simulator.errors import ConfigError

__all__ = [
    "ALGORITHMS",
    "EXTRACTORS",
    "AlgorithmInfo",
    "algorithm_info",
    "algorithm_name",
    "build_model",
    "check_model_spec",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlgorithmInfo:
    """What the rest of the code may know about an algorithm without naming it.

    Attributes:
        name: Config name (``ppo``...).
        cls: The SB3 / sb3-contrib algorithm class.
        policy: The policy name passed to the class.
        recurrent: The policy carries memory across steps (``predict`` returns a state).
        on_policy: Learns from fresh rollouts (PPO, A2C) rather than a replay buffer (DQN).
    """

    name: str
    cls: type[BaseAlgorithm]
    policy: str
    recurrent: bool
    on_policy: bool


ALGORITHMS: dict[str, AlgorithmInfo] = {
    "ppo": AlgorithmInfo("ppo", PPO, "MultiInputPolicy", recurrent=False, on_policy=True),
    "a2c": AlgorithmInfo("a2c", A2C, "MultiInputPolicy", recurrent=False, on_policy=True),
    "dqn": AlgorithmInfo("dqn", DQN, "MultiInputPolicy", recurrent=False, on_policy=False),
    "recurrent_ppo": AlgorithmInfo(
        "recurrent_ppo", RecurrentPPO, "MultiInputLstmPolicy", recurrent=True, on_policy=True
    ),
}
"""Algorithm name -> facts and class."""

EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {
    "cnn": HistoryCNN,
    "gru": HistoryGRU,
    "flatten": CombinedExtractor,
}
"""Extractor name -> ``BaseFeaturesExtractor`` class."""

# Arguments the factory fills itself; a config may not set them as hyperparameters.
_RESERVED = {"policy", "env", "seed", "device", "policy_kwargs", "tensorboard_log", "verbose",
             "_init_setup_model", "rollout_buffer_class", "rollout_buffer_kwargs",
             "replay_buffer_class", "replay_buffer_kwargs"}
# Policy keyword arguments a YAML file may set (plain data only; no classes).
_POLICY_KEYS = {"net_arch", "ortho_init", "share_features_extractor", "normalize_images",
                "lstm_hidden_size", "n_lstm_layers", "shared_lstm", "enable_critic_lstm"}


def algorithm_info(name: str) -> AlgorithmInfo:
    """Facts about algorithm ``name``; raises ``ConfigError`` naming the allowed names."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ConfigError(
            f"agent.algorithm: unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}"
        ) from None


def algorithm_name(model: BaseAlgorithm) -> str:
    """The config name of a model's algorithm (inverse of the registry)."""
    for info in ALGORITHMS.values():
        if type(model) is info.cls:
            return info.name
    raise ConfigError(f"{type(model).__name__} is not an algorithm crmgym knows")


def _allowed_params(func: Any) -> set[str]:
    return {p for p in inspect.signature(func).parameters if p not in ("self", "args", "kwargs")}


def check_model_spec(
    algorithm: str,
    extractor: str,
    extractor_kwargs: Mapping[str, Any] | None = None,
    policy_kwargs: Mapping[str, Any] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
) -> AlgorithmInfo:
    """Validate names and keys of a model specification without building anything.

    Raises:
        ConfigError: naming the bad key or value and what is allowed.
    """
    info = algorithm_info(algorithm)
    if extractor not in EXTRACTORS:
        raise ConfigError(
            f"agent.extractor: unknown extractor {extractor!r}; choose one of "
            f"{', '.join(EXTRACTORS)}"
        )
    ext_allowed = _allowed_params(EXTRACTORS[extractor].__init__) - {"observation_space"}
    for key, value in (extractor_kwargs or {}).items():
        if key not in ext_allowed:
            raise ConfigError(
                f"agent.extractor_kwargs: unknown key {key!r} (value {value!r}) for extractor "
                f"{extractor!r}; allowed keys: {', '.join(sorted(ext_allowed))}"
            )
    policy_allowed = _POLICY_KEYS & (_allowed_params(info.cls.policy_aliases[info.policy].__init__))
    for key, value in (policy_kwargs or {}).items():
        if key not in policy_allowed:
            raise ConfigError(
                f"agent.policy_kwargs: unknown key {key!r} (value {value!r}) for algorithm "
                f"{algorithm!r}; allowed keys: {', '.join(sorted(policy_allowed))}"
            )
    hp_allowed = _allowed_params(info.cls.__init__) - _RESERVED
    for key, value in (hyperparameters or {}).items():
        if key not in hp_allowed:
            raise ConfigError(
                f"agent.hyperparameters: unknown key {key!r} (value {value!r}) for algorithm "
                f"{algorithm!r}; allowed keys: {', '.join(sorted(hp_allowed))}"
            )
    return info


def build_model(
    env: VecEnv,
    algorithm: str = "ppo",
    extractor: str = "gru",
    extractor_kwargs: Mapping[str, Any] | None = None,
    policy_kwargs: Mapping[str, Any] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int | None = None,
    device: str = "auto",
    tensorboard_log: str | None = None,
    verbose: int = 0,
) -> BaseAlgorithm:
    """Build an SB3 model for ``env`` from plain-data settings.

    Args:
        env: The (vectorised) training environment with the CRM ``Dict`` observation.
        algorithm: One of :data:`ALGORITHMS`.
        extractor: One of :data:`EXTRACTORS`.
        extractor_kwargs: Keyword arguments of the extractor class (sizes).
        policy_kwargs: Extra policy settings from the allowed set (``net_arch``,
            ``lstm_hidden_size``...).
        hyperparameters: Keyword arguments of the algorithm class (``learning_rate``,
            ``n_steps``...).
        seed: Seed for the algorithm's own randomness (network init, sampling).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        tensorboard_log: Folder for SB3's TensorBoard logs, or ``None``.
        verbose: SB3 verbosity.

    Returns:
        The untrained model.

    Raises:
        ConfigError: for unknown names or keys, or values the algorithm rejects.
        EnvArgumentError: when the env's observation space does not fit the extractor.
    """
    info = check_model_spec(algorithm, extractor, extractor_kwargs, policy_kwargs, hyperparameters)
    if not isinstance(env.action_space, spaces.Discrete):
        raise ConfigError(f"crmgym agents need a Discrete action space, got {env.action_space}")
    ext_kwargs = dict(extractor_kwargs or {})
    # Build once up front so a bad size raises our own clear error, not one deep inside SB3.
    EXTRACTORS[extractor](env.observation_space, **ext_kwargs)
    pk: dict[str, Any] = dict(policy_kwargs or {})
    pk["features_extractor_class"] = EXTRACTORS[extractor]
    pk["features_extractor_kwargs"] = ext_kwargs
    logger.debug("building %s with %s extractor %s", algorithm, extractor, ext_kwargs)
    try:
        return info.cls(
            info.policy,
            env,
            policy_kwargs=pk,
            seed=seed,
            device=device,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            **dict(hyperparameters or {}),
        )
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(f"agent: {algorithm} rejected its settings: {exc}") from None
