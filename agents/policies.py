"""One spec string -> one policy, learned or heuristic, with the same ``predict()``.

=================================  ============================================================
spec                               policy
=================================  ============================================================
``no_action``                      :class:`~agents.heuristics.NoActionPolicy`
``random`` / ``random:SEED``       :class:`~agents.heuristics.RandomPolicy` (default seed 0)
``always:<action>``                :class:`~agents.heuristics.AlwaysPolicy`, e.g. ``always:email``
``rfm_rule`` / ``rfm_rule:k=v,..`` :class:`~agents.heuristics.RFMRulePolicy`, thresholds
                                   overriding :class:`~agents.heuristics.RFMRuleConfig`
``myopic_uplift``                  :class:`~agents.heuristics.MyopicUpliftPolicy`
``oracle``                         :class:`~agents.heuristics.OraclePolicy`
``model:<folder>`` or ``<folder>`` a model saved by ``crmgym train`` (:class:`TrainedPolicy`)
=================================  ============================================================

>>> sorted(HEURISTICS)
['always', 'myopic_uplift', 'no_action', 'oracle', 'random', 'rfm_rule']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.heuristics import (
    AlwaysPolicy,
    MyopicUpliftPolicy,
    NoActionPolicy,
    OraclePolicy,
    RandomPolicy,
    RFMRuleConfig,
    RFMRulePolicy,
)
from agents.persistence import ObsNormalizer, load_model
from gan_simulator.configuration import from_mapping
from gan_simulator.errors import ConfigError

__all__ = ["HEURISTICS", "Policy", "TrainedPolicy", "load_policy"]


@runtime_checkable
class Policy(Protocol):
    """Anything with SB3's ``predict`` protocol over a batch of ``Dict`` observations."""

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """Actions ``int64[n]`` and the recurrent state (``None`` for memoryless policies)."""
        ...


class TrainedPolicy:
    """A trained SB3 model plus the observation normalisation it was trained with.

    Args:
        model: The SB3 model.
        normalizer: ``VecNormalize`` statistics frozen at save time, or ``None``.
        name: Label for reports.
    """

    def __init__(
        self, model: BaseAlgorithm, normalizer: ObsNormalizer | None = None, name: str = "model"
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.name = name

    def predict(
        self,
        observation: dict[str, np.ndarray],
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """Normalise like training did, then ask the model."""
        obs = self.normalizer(observation) if self.normalizer is not None else observation
        actions, state = self.model.predict(
            obs, state=state, episode_start=episode_start, deterministic=deterministic
        )
        return np.asarray(actions, dtype=np.int64).reshape(-1), state


def _single_spaces(env: Any) -> tuple[Any, Any]:
    obs = getattr(env, "single_observation_space", None) or env.observation_space
    act = getattr(env, "single_action_space", None) or env.action_space
    return obs, act


def _n_actions(env: Any) -> int:
    return int(_single_spaces(env)[1].n)


def _parse_kv(text: str, spec: str) -> dict[str, Any]:
    """``"a=1,b=email"`` -> ``{"a": 1.0, "b": "email"}`` (numbers become floats)."""
    out: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"policy spec {spec!r}: expected key=value pairs, got {item!r}")
        value = value.strip()
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _random(arg: str, env: Any, spec: str) -> RandomPolicy:
    if arg and not arg.isdigit():
        raise ConfigError(f"policy spec {spec!r}: the seed after 'random:' must be an integer")
    return RandomPolicy(_n_actions(env), seed=int(arg or 0))


def _always(arg: str, env: Any, spec: str) -> AlwaysPolicy:
    if not arg:
        raise ConfigError(
            f"policy spec {spec!r} names no action; write always:<action>, e.g. always:email"
        )
    return AlwaysPolicy(env.catalog, arg)


def _rfm(arg: str, env: Any, spec: str) -> RFMRulePolicy:
    config = from_mapping(RFMRuleConfig, _parse_kv(arg, spec), "rfm_rule")
    return RFMRulePolicy(env.layout, env.catalog, config)


HEURISTICS: dict[str, Callable[[str, Any, str], Any]] = {
    "no_action": lambda arg, env, spec: NoActionPolicy(),
    "random": _random,
    "always": _always,
    "rfm_rule": _rfm,
    "myopic_uplift": lambda arg, env, spec: MyopicUpliftPolicy(env),
    "oracle": lambda arg, env, spec: OraclePolicy(env),
}
"""Heuristic name -> builder ``(argument, env, spec) -> policy``."""


def load_policy(spec: str, env: Any, device: str = "cpu") -> Policy:
    """Build the policy named by ``spec`` for ``env``.

    Args:
        spec: See the module table, e.g. ``"rfm_rule"``, ``"always:email"``,
            ``"runs/ppo_gru/final_model"``.
        env: The CRM vector env the policy will act in (``CRMVectorEnv`` or its SB3 adapter);
            heuristics read its catalogue, layout and simulator, models check its spaces.
        device: Torch device for learned models.

    Raises:
        ConfigError: for an unknown name or a malformed argument.
        CheckpointError: for a model folder that cannot be loaded for this env.
    """
    name, _, arg = spec.partition(":")
    if name in HEURISTICS:
        policy = HEURISTICS[name](arg, env, spec)
        if not getattr(policy, "name", None) or policy.name == "heuristic":
            policy.name = spec
        return policy
    path = Path(arg if name == "model" else spec)
    if name == "model" or path.is_dir() or (path / "model.json").is_file():
        obs_space, act_space = _single_spaces(env)
        model, normalizer, _ = load_model(
            path, device=device, observation_space=obs_space, action_space=act_space
        )
        return TrainedPolicy(model, normalizer, name=str(path))
    raise ConfigError(
        f"unknown policy {spec!r}; use one of {', '.join(sorted(HEURISTICS))} "
        "(always:<action>, random:<seed>, rfm_rule:key=value,...) or a saved model folder"
    )
