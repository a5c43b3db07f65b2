"""``CRMEnv``: one customer per episode, for ``check_env``, debugging and teaching."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from crm_env.engine import CustomerEngine
from crm_env.factory import SimulatorSpec, build_config, resolve_simulator
from crm_env.observation import ObservationLayout
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import Simulator, State


class CRMEnv(gym.Env):
    """Weekly CRM decisions for one customer at a time.

    ## Description

    One episode is one customer of a simulated shop over ``horizon`` weeks. Each step the
    agent picks a marketing action (do nothing, e-mail, 10% or 25% discount, loyalty perk);
    the customer simulator decides whether the customer buys and how much; the reward is the
    week's profit. It is the single-customer view of :class:`~crm_env.CRMVectorEnv` and equals
    its slot ``slot`` step by step for the same seed; train on the vector env, which is
    hundreds of times faster.

    ## Action Space

    ``Discrete(K)`` over the simulator's :class:`~gan_simulator.actions.ActionCatalog`; by
    default 0 ``none``, 1 ``email``, 2 ``discount_10``, 3 ``discount_25``, 4 ``loyalty_perk``
    (costs in the table of :class:`~crm_env.CRMVectorEnv`).

    ## Observation Space

    ``Dict(history=Box[W, 3 + K + 1], profile=Box[S + 8])``, float32:

    | history column | Feature        | Unit / meaning                                  | Bounds  |
    |----------------|----------------|-------------------------------------------------|---------|
    | 0              | purchased      | 1 if any purchase that week                     | [0, 1]  |
    | 1              | transactions   | purchases that week                             | [0, 1e6]|
    | 2              | log_spend      | log1p(list-price dollars)                       | [0, 100]|
    | 3..3+K-1       | action_<name>  | one-hot action of that week (0 before episode)  | [0, 1]  |
    | 3+K            | valid          | 1 if the week existed for the customer          | [0, 1]  |

    | profile index | Feature           | Unit / meaning                                 | Bounds    |
    |---------------|-------------------|------------------------------------------------|-----------|
    | 0..S-1        | static_<name>     | static attribute, sign(x)*log1p(abs(x))        | [-100,100]|
    | S             | recency_weeks     | weeks since last purchase week (0 = last week) | [0, 1e6]  |
    | S+1           | frequency         | purchase weeks so far, history included        | [0, 1e6]  |
    | S+2           | monetary          | log1p(mean list-price spend per purchase week) | [0, 100]  |
    | S+3           | tenure_weeks      | weeks since the customer's first week          | [0, 1e6]  |
    | S+4           | weeks_left        | weeks left in the episode                      | [0, 1e6]  |
    | S+5           | contacts_last_4w  | contact actions in the last 4 episode weeks    | [0, 4]    |
    | S+6           | discounts_last_4w | discount actions in the last 4 episode weeks   | [0, 4]    |
    | S+7           | opted_out         | 1 once the customer opted out of contact       | [0, 1]    |

    ## Rewards

    ``margin * gross_spend - discount * gross_spend - contact_cost - incentive_cost`` in
    dollars times ``reward_scale``; ``info`` holds the parts as scalars (``revenue``,
    ``gross_spend``, ``discount_cost``, ``cogs``, ``contact_cost``, ``incentive_cost``,
    ``purchased``, ``transactions``, ``customer_id``, ``week``, ``slot``, ``episode_index``,
    ``action``).

    ## Starting State

    A new customer at every reset, drawn from the random stream ``(seed, slot, episode)``;
    the history box holds the customer's weeks before the episode.

    ## Episode End

    ``terminated`` when the customer opts out of all contact (``opt_out="terminate"``);
    ``truncated`` after ``horizon`` weeks.

    ## Arguments

    ``simulator`` (``"gan"``, ``"structural"``, checkpoint path or instance), ``config``
    (:class:`~crm_env.EnvConfig` or mapping), ``seed``, ``slot`` (index of the random stream),
    ``max_episode_steps`` (alias of ``horizon``) and keyword overrides of config fields.

    >>> env = CRMEnv(simulator="structural", seed=1, horizon=2)
    >>> obs, info = env.reset()
    >>> sorted(obs)
    ['history', 'profile']
    >>> _, reward, terminated, truncated, info = env.step(1)
    >>> info["contact_cost"]
    0.1
    >>> _, reward, terminated, truncated, info = env.step(0)
    >>> truncated or terminated
    True

    ## Version History

    * v0: initial release (``crmgym/Retention-v0``).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        simulator: SimulatorSpec = "gan",
        config: Any = None,
        seed: int | None = None,
        slot: int = 0,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(slot, bool) or not isinstance(slot, int | np.integer) or slot < 0:
            raise EnvArgumentError(f"slot={slot!r} must be a non-negative integer")
        if render_mode is not None:
            raise EnvArgumentError(f"render_mode={render_mode!r}: CRMEnv renders nothing; pass None")
        self.config = build_config(config, seed, max_episode_steps, overrides)
        sim = resolve_simulator(simulator, self.config.population)
        self._engine = CustomerEngine(sim, self.config, np.array([int(slot)]))
        self.observation_space = self._engine.layout.observation_space()
        self.action_space = spaces.Discrete(self._engine.n_actions)
        self.metadata = {
            **type(self).metadata,
            "simulator_fingerprint": sim.fingerprint,
            "simulator": type(sim).__name__,
        }
        self._done = True

    @property
    def simulator(self) -> Simulator:
        """The customer simulator."""
        return self._engine.simulator

    @property
    def catalog(self) -> ActionCatalog:
        """The actions behind the ``Discrete`` codes."""
        return self._engine.catalog

    @property
    def layout(self) -> ObservationLayout:
        """Names and positions of the observation features."""
        return self._engine.layout

    @property
    def sim_state(self) -> State:
        """Simulator state of the customer (a batch of one)."""
        return self._engine.sim_state

    @property
    def week(self) -> int:
        """Weeks played in the current episode."""
        return int(self._engine.buffers.week[0])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode with a new customer (episode 0 of ``seed`` when given)."""
        super().reset(seed=seed)
        self._engine.reset_all(seed)
        self._done = False
        b = self._engine.buffers
        return self._obs(), {"customer_id": int(b.customer_id[0]), "episode_index": int(self._engine.episodes[0])}

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Play one week."""
        if self._done:
            raise EnvArgumentError("the episode is over (or never started); call reset() first")
        a = self._engine.check_actions(np.asarray(action))
        reward, terminated, truncated, info = self._engine.play_week(a)
        self._done = bool(terminated[0] or truncated[0])
        return (
            self._obs(),
            float(reward[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            {k: v[0].item() for k, v in info.items()},
        )

    def _obs(self) -> dict[str, np.ndarray]:
        obs = self._engine.observe()
        return {"history": obs["history"][0], "profile": obs["profile"][0]}
