"""The Gymnasium CRM environment: weekly retention decisions on simulated customers.

Importing the package registers ``crmgym/Retention-v0``:

>>> import gymnasium as gym
>>> import crm_env
>>> env = gym.make("crmgym/Retention-v0", simulator="structural", seed=0, horizon=4)
>>> obs, info = env.reset()
>>> env.unwrapped.metadata["simulator_fingerprint"] == env.unwrapped.simulator.fingerprint
True
>>> envs = gym.make_vec("crmgym/Retention-v0", num_envs=3, simulator="structural",
...                     max_episode_steps=4)
>>> envs.num_envs, envs.unwrapped.config.horizon
(3, 4)

``simulator=`` accepts ``"gan"`` (the shipped GAN, wrapped by the :class:`ResponseModel`
unless it learned action effects), ``"structural"``, a GAN checkpoint path or an instance.
Bad arguments raise :class:`~gan_simulator.errors.EnvArgumentError`.

Episode length is the env's ``horizon`` (config field, default 52 weeks): ``gym.make_vec``
maps ``max_episode_steps`` onto it. ``gym.make(..., max_episode_steps=k)`` only adds
Gymnasium's ``TimeLimit`` on top, so pass ``horizon=k`` to keep ``weeks_left`` consistent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from crm_env.config import EnvConfig
from crm_env.env import CRMEnv
from crm_env.factory import build_config, resolve_simulator
from crm_env.observation import ObservationLayout
from crm_env.vector_env import CRMVectorEnv
from gan_simulator.actions import Action, ActionCatalog

ENV_ID = "crmgym/Retention-v0"
"""The registered id; bumped when the env's behaviour changes."""

if ENV_ID not in gym.registry:
    gym.register(
        id=ENV_ID,
        entry_point="crm_env.env:CRMEnv",
        vector_entry_point="crm_env.vector_env:CRMVectorEnv",
        max_episode_steps=None,  # the env truncates itself at config.horizon
    )

_LAZY = {
    "ResponseModel": "crm_env.response",
    "ResponseConfig": "crm_env.response",
    "ResponsiveSimulator": "crm_env.response",
    "EpisodeRecorder": "crm_env.recorder",
    "load_episodes": "crm_env.replay",
    "SB3VecEnv": "crm_env.sb3",
    "make_vec_env": "crm_env.sb3",
}


def __getattr__(name: str) -> Any:
    """Import heavy parts (SB3, pyarrow) only when used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'crm_env' has no attribute {name!r}")


__all__ = [
    "ENV_ID",
    "Action",
    "ActionCatalog",
    "CRMEnv",
    "CRMVectorEnv",
    "EnvConfig",
    "EpisodeRecorder",
    "ObservationLayout",
    "ResponseConfig",
    "ResponseModel",
    "ResponsiveSimulator",
    "SB3VecEnv",
    "build_config",
    "load_episodes",
    "make_vec_env",
    "resolve_simulator",
]
