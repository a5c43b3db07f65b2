"""Turning env arguments into a simulator and a config, with clear errors for bad ones."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crm_env.config import EnvConfig
from gan_simulator.configuration import from_mapping, to_mapping
from gan_simulator.errors import ConfigError, EnvArgumentError
from gan_simulator.protocol import Simulator

log = logging.getLogger(__name__)

SimulatorSpec = Any
"""``"gan"``, ``"structural"``, a GAN checkpoint path (str or Path) or a simulator instance."""


def build_config(
    config: EnvConfig | Mapping[str, Any] | None,
    seed: int | None = None,
    max_episode_steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> EnvConfig:
    """Merge a base config, keyword overrides, ``seed`` and ``max_episode_steps``.

    Raises:
        EnvArgumentError: for an unknown setting or a bad value (the message names both).
    """
    try:
        if config is None:
            base = EnvConfig()
        elif isinstance(config, EnvConfig):
            base = config
        elif isinstance(config, Mapping):
            base = from_mapping(EnvConfig, config, "env")
        else:
            raise EnvArgumentError(
                f"config={config!r} must be an EnvConfig, a mapping of its fields or None"
            )
        if overrides:
            base = from_mapping(EnvConfig, {**to_mapping(base), **dict(overrides)}, "env")
        if max_episode_steps is not None:
            if overrides and "horizon" in overrides and overrides["horizon"] != max_episode_steps:
                raise EnvArgumentError(
                    f"max_episode_steps={max_episode_steps} contradicts horizon="
                    f"{overrides['horizon']}; pass only one of them"
                )
            base = from_mapping(EnvConfig, {**to_mapping(base), "horizon": max_episode_steps}, "env")
        if seed is not None:
            base = from_mapping(EnvConfig, {**to_mapping(base), "seed": seed}, "env")
    except ConfigError as exc:
        raise EnvArgumentError(str(exc)) from None
    return base


def resolve_simulator(spec: SimulatorSpec, population: str = "synthetic") -> Simulator:
    """The simulator an env argument names.

    Args:
        spec: ``"gan"`` (the shipped default GAN), ``"structural"`` (the ground-truth world),
            a path to a GAN checkpoint, or an object implementing the Simulator protocol.
        population: ``"synthetic"`` or ``"real"`` customers (see :class:`EnvConfig`).

    A GAN that did not learn action effects (``learned_actions`` false) is wrapped by the
    default :class:`~crm_env.response.ResponseModel`.

    Raises:
        EnvArgumentError: for an unknown name, a missing path or an unusable object.
    """
    if isinstance(spec, str) and spec == "structural":
        sim = _structural()
    elif isinstance(spec, str) and spec == "gan":
        sim = _with_response(_gan_class().default())
    elif isinstance(spec, str | Path):
        path = Path(spec)
        if not path.exists():
            raise EnvArgumentError(
                f"simulator={str(spec)!r} is neither 'gan', 'structural' nor an existing "
                "checkpoint path; pass one of those or a simulator instance"
            )
        sim = _with_response(_gan_class().load(path))
    else:
        sim = spec
    missing = [
        name
        for name in ("catalog", "static_names", "customer_noise_dim", "step_noise_dim",
                     "fingerprint", "draw_customers", "step")
        if not hasattr(sim, name)
    ]
    if missing:
        raise EnvArgumentError(
            f"simulator {type(sim).__name__} lacks {', '.join(missing)}; pass 'gan', "
            "'structural', a checkpoint path or an object implementing "
            "gan_simulator.protocol.Simulator"
        )
    return _with_population(sim, population)


def _with_population(sim: Any, population: str) -> Any:
    if hasattr(sim, "with_population"):
        return sim.with_population(population)
    own = getattr(sim, "population", "synthetic")
    if own != population:
        raise EnvArgumentError(
            f"population={population!r} but simulator {type(sim).__name__} draws only "
            f"{own!r} customers; set population={own!r} or use a simulator that supports both"
        )
    return sim


def _with_response(gan: Any) -> Any:
    if getattr(gan, "learned_actions", False):
        return gan
    from crm_env.response import ResponseModel

    return ResponseModel().wrap(gan)


def _gan_class() -> Any:
    try:
        from gan_simulator.simulator import GANSimulator
    except ImportError as exc:
        raise EnvArgumentError(
            f"the GAN simulator is not available ({exc}); use simulator='structural' "
            "or install a build that ships gan_simulator.simulator"
        ) from None
    return GANSimulator


def _structural() -> Any:
    try:
        from gan_simulator.structural import StructuralSimulator
    except ImportError as exc:
        raise EnvArgumentError(
            f"the structural simulator is not available ({exc}); pass a simulator instance"
        ) from None
    return StructuralSimulator.default() if hasattr(StructuralSimulator, "default") else StructuralSimulator()


__all__ = ["SimulatorSpec", "build_config", "resolve_simulator"]
