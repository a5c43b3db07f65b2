"""The one adapter from a same-step-autoreset Gymnasium vector env to SB3's ``VecEnv``.

SB3 wants ``(obs, rewards, dones, infos)`` with a list of per-env info dicts, and, for a
finished env, its last observation under ``"terminal_observation"`` and
``"TimeLimit.truncated"`` set when the episode was cut by the horizon rather than ended by
an absorbing state (so that algorithms bootstrap). :class:`SB3VecEnv` provides exactly that
on top of :class:`~crm_env.CRMVectorEnv` (``SAME_STEP`` autoreset, so no step is wasted).
It works under ``VecMonitor`` and ``VecNormalize``.

The per-env info dicts are empty except for finished envs (building a dict of money parts
for every customer every step would cost more than the simulator); the batched ``info`` of
the last step is kept in :attr:`SB3VecEnv.last_info` for callbacks.

>>> venv = make_vec_env("structural", num_envs=4, seed=0, config={"horizon": 2}, monitor=False)
>>> obs = venv.reset()
>>> obs["profile"].shape
(4, 11)
>>> _ = venv.step(np.zeros(4, dtype=np.int64))
>>> _, rewards, dones, infos = venv.step(np.zeros(4, dtype=np.int64))
>>> bool(dones.all()), infos[0]["TimeLimit.truncated"], sorted(infos[0]["terminal_observation"])
(True, True, ['history', 'profile'])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from crm_env.config import EnvConfig
from crm_env.factory import SimulatorSpec
from gan_simulator.errors import EnvArgumentError


class SB3VecEnv(VecEnv):
    """SB3 ``VecEnv`` view of a Gymnasium vector env with ``SAME_STEP`` autoreset.

    Args:
        env: Typically a :class:`~crm_env.CRMVectorEnv`, possibly wrapped (e.g. by
            :class:`~crm_env.EpisodeRecorder`).

    Attributes ``catalog``, ``simulator``, ``sim_state``, ``layout``, ``config`` and ``week``
    are those of the underlying env.
    """

    def __init__(self, env: VectorEnv) -> None:
        mode = env.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise EnvArgumentError(
                f"SB3VecEnv needs a vector env with SAME_STEP autoreset, got {mode!r}; "
                "use crm_env.CRMVectorEnv"
            )
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self.last_info: dict[str, Any] = {}
        self._actions: np.ndarray | None = None

    # Attributes the agents read ---------------------------------------------------------
    @property
    def base(self) -> Any:
        """The innermost env (``env.unwrapped``)."""
        return self.env.unwrapped

    @property
    def catalog(self) -> Any:
        """The action catalogue."""
        return self.base.catalog

    @property
    def simulator(self) -> Any:
        """The customer simulator."""
        return self.base.simulator

    @property
    def sim_state(self) -> Any:
        """The simulator state of all envs."""
        return self.base.sim_state

    @property
    def layout(self) -> Any:
        """The observation layout."""
        return self.base.layout

    @property
    def config(self) -> EnvConfig:
        """The env config."""
        return self.base.config

    @property
    def week(self) -> np.ndarray:
        """Weeks played in each env's current episode."""
        return self.base.week

    # VecEnv API ------------------------------------------------------------------------------
    def reset(self) -> dict[str, np.ndarray]:
        """Reset all envs; a seed set by :meth:`seed` is used as the root seed."""
        seed = self._seeds[0]
        obs, info = self.env.reset(seed=seed)
        self.last_info = info
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[dict]]:
        """Step every env; finished ones carry ``terminal_observation`` and ``TimeLimit.truncated``."""
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            final = info["final_obs"]
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = final[i]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        self.last_info = info
        return obs, np.asarray(reward, dtype=np.float32), dones, infos

    def close(self) -> None:
        """Close the underlying env."""
        self.env.close()

    def _targets(self, indices: Any) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """An attribute of the underlying env; per-env arrays are split by env."""
        value = getattr(self.base, attr_name)
        idx = self._targets(indices)
        if isinstance(value, np.ndarray) and value.shape[:1] == (self.num_envs,):
            return [value[i] for i in idx]
        return [value for _ in idx]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute on the underlying (shared) env."""
        setattr(self.base, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the underlying env once; its result is repeated per index."""
        result = getattr(self.base, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._targets(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """Whether the vector env is wrapped by ``wrapper_class`` (same answer for all)."""
        env, found = self.env, False
        while True:
            found = found or isinstance(env, wrapper_class)
            inner = getattr(env, "env", None)
            if inner is None or inner is env:
                break
            env = inner
        return [found for _ in self._targets(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """No rendering."""
        return [None for _ in range(self.num_envs)]


def make_vec_env(
    simulator: SimulatorSpec = "gan",
    num_envs: int = 64,
    seed: int | None = None,
    config: EnvConfig | dict[str, Any] | None = None,
    monitor: bool = True,
    record_path: str | Path | None = None,
    **overrides: Any,
) -> VecEnv:
    """A :class:`~crm_env.CRMVectorEnv` ready for SB3.

    Args:
        simulator: ``"gan"``, ``"structural"``, a checkpoint path or a simulator instance.
        num_envs: Customers stepped together.
        seed: Root seed (``None``: ``config.seed`` or a fresh one).
        config: :class:`~crm_env.EnvConfig` or a mapping of its fields.
        monitor: Wrap in ``VecMonitor`` (episode return/length in ``infos[i]["episode"]``).
        record_path: Record every step to this Parquet file (see :class:`EpisodeRecorder`).
        **overrides: Config fields to override, e.g. ``horizon=26``.

    Returns:
        An SB3 ``VecEnv`` (``VecMonitor`` over :class:`SB3VecEnv` when ``monitor``).
    """
    from crm_env.vector_env import CRMVectorEnv

    env: VectorEnv = CRMVectorEnv(
        num_envs=num_envs, simulator=simulator, config=config, seed=seed, **overrides
    )
    if record_path is not None:
        from crm_env.recorder import EpisodeRecorder

        env = EpisodeRecorder(env, record_path)
    venv: VecEnv = SB3VecEnv(env)
    if monitor:
        venv = VecMonitor(venv)
    return venv
