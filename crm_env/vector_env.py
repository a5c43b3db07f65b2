"""``CRMVectorEnv``: many customers in preallocated arrays, one simulator call per step."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from crm_env.engine import CustomerEngine
from crm_env.factory import SimulatorSpec, build_config, resolve_simulator
from crm_env.observation import CustomerBuffers, ObservationLayout
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import Simulator, State


class CRMVectorEnv(VectorEnv):
    """Weekly CRM decisions for a batch of customers, natively vectorised.

    ## Description

    Each of the ``num_envs`` slots holds one customer of a simulated shop. Every step is one
    week: the agent picks one marketing action per customer (do nothing, e-mail, a 10% or 25%
    discount, a loyalty perk), the customer simulator (the GAN learned from CDNOW, or the
    structural ground-truth world) decides who buys and how much, and the reward is the profit
    of that week. One customer is one episode of ``horizon`` weeks.

    ## Action Space

    ``MultiDiscrete([K] * num_envs)``; per slot ``Discrete(K)`` over the simulator's
    :class:`~gan_simulator.actions.ActionCatalog` (default ``K = 5``):

    | Code | Action         | Contact cost | Discount | Incentive (paid on purchase) |
    |------|----------------|--------------|----------|------------------------------|
    | 0    | ``none``       | $0           | 0%       | $0                           |
    | 1    | ``email``      | $0.10        | 0%       | $0                           |
    | 2    | ``discount_10``| $0.10        | 10%      | $0                           |
    | 3    | ``discount_25``| $0.10        | 25%      | $0                           |
    | 4    | ``loyalty_perk``| $0.10       | 0%       | $2                           |

    ## Observation Space

    ``Dict`` of two float32 boxes (batched along a leading ``num_envs`` axis).
    ``history`` ``[W, 3 + K + 1]``, the last ``W = window`` weeks, oldest first:

    | Index     | Feature          | Unit / meaning                                  | Bounds  |
    |-----------|------------------|-------------------------------------------------|---------|
    | 0         | purchased        | 1 if any purchase that week                     | [0, 1]  |
    | 1         | transactions     | purchases that week                             | [0, 1e6]|
    | 2         | log_spend        | log1p(list-price dollars)                       | [0, 100]|
    | 3..3+K-1  | action_<name>    | one-hot action of that week (0 before episode)  | [0, 1]  |
    | 3+K       | valid            | 1 if the week existed for the customer          | [0, 1]  |

    ``profile`` ``[S + 8]`` with ``S`` the simulator's static attributes:

    | Index | Feature            | Unit / meaning                                        | Bounds    |
    |-------|--------------------|-------------------------------------------------------|-----------|
    | 0..S-1| static_<name>      | static attribute, sign(x)*log1p(abs(x))               | [-100,100]|
    | S     | recency_weeks      | weeks since last purchase week (0 = last week)        | [0, 1e6]  |
    | S+1   | frequency          | purchase weeks so far, history included               | [0, 1e6]  |
    | S+2   | monetary           | log1p(mean list-price spend per purchase week)        | [0, 100]  |
    | S+3   | tenure_weeks       | weeks since the customer's first week                 | [0, 1e6]  |
    | S+4   | weeks_left         | weeks left in the episode (horizon at reset)          | [0, 1e6]  |
    | S+5   | contacts_last_4w   | contact actions in the last 4 episode weeks           | [0, 4]    |
    | S+6   | discounts_last_4w  | discount actions in the last 4 episode weeks          | [0, 4]    |
    | S+7   | opted_out          | 1 once the customer has opted out of contact          | [0, 1]    |

    Read features by name through ``env.layout`` (:class:`~crm_env.ObservationLayout`).

    ## Rewards

    Per customer-week, in dollars times ``reward_scale``:
    ``margin * gross_spend - discount * gross_spend - contact_cost - incentive_cost``, where
    ``gross_spend`` is list-price spend, the discount is paid on every purchase of a
    discounted week (also those that would have happened anyway) and the incentive only when
    the treated customer buys. ``info`` carries the parts as arrays over the slots:
    ``revenue`` (price paid), ``gross_spend``, ``discount_cost``, ``cogs`` (cost of goods,
    ``(1 - margin) * gross_spend``), ``contact_cost``, ``incentive_cost``, ``purchased``,
    ``transactions``, ``customer_id``, ``week`` (week just played, from 0), ``slot``,
    ``episode_index`` (episodes the slot started before this one) and ``action``;
    ``reward == revenue - cogs - contact_cost - incentive_cost``.

    ## Starting State

    Every reset draws new customers from the simulator (never a cached first state): slot
    ``i`` in its ``e``-th episode uses the random stream ``(seed, i, e)``. The history box is
    filled from the customer's weeks before the episode (acquisition week included).

    ## Episode End

    * ``terminated``: the customer opted out of all contact (absorbing), when
      ``opt_out="terminate"`` (the default).
    * ``truncated``: ``horizon`` weeks were played (bootstrap from the final observation).

    Autoreset is ``SAME_STEP`` (``metadata["autoreset_mode"]``): a finished slot returns the
    first observation of its next customer at once; its final observation is in
    ``info["final_obs"]`` (an object array holding a dict for each finished slot, ``None``
    elsewhere; mask ``info["_final_obs"]``). The other ``info`` arrays describe the week just
    played, so they already are the finished customer's final info.

    ## Arguments

    * ``num_envs``: customers stepped together.
    * ``simulator``: ``"gan"`` (shipped GAN, with the :class:`~crm_env.ResponseModel` unless it
      learned action effects), ``"structural"``, a GAN checkpoint path, or a simulator instance.
    * ``config``: an :class:`~crm_env.EnvConfig` or a mapping; keyword overrides such as
      ``horizon=26`` are applied on top. ``max_episode_steps`` is an alias of ``horizon``.
    * ``seed``: root seed (overrides ``config.seed``); ``slot_offset``: index of the first slot's
      random stream.

    >>> import crm_env
    >>> envs = CRMVectorEnv(num_envs=4, simulator="structural", seed=7, horizon=3)
    >>> obs, info = envs.reset()
    >>> obs["history"].shape, obs["profile"].shape[0]
    ((4, 8, 9), 4)
    >>> obs, reward, terminated, truncated, info = envs.step(np.zeros(4, dtype=np.int64))
    >>> reward.shape, bool(truncated.any())
    ((4,), False)
    >>> envs.metadata["autoreset_mode"].name
    'SAME_STEP'

    ## Version History

    * v0: initial release (``crmgym/Retention-v0``).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        simulator: SimulatorSpec = "gan",
        config: Any = None,
        seed: int | None = None,
        slot_offset: int = 0,
        max_episode_steps: int | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise EnvArgumentError(f"num_envs={num_envs!r} must be a positive integer, e.g. 64")
        if isinstance(slot_offset, bool) or not isinstance(slot_offset, int) or slot_offset < 0:
            raise EnvArgumentError(f"slot_offset={slot_offset!r} must be a non-negative integer")
        self.config = build_config(config, seed, max_episode_steps, overrides)
        sim = resolve_simulator(simulator, self.config.population)
        self._engine = CustomerEngine(sim, self.config, slot_offset + np.arange(int(num_envs)))
        self.num_envs = int(num_envs)
        self.single_observation_space = self._engine.layout.observation_space()
        self.single_action_space = spaces.Discrete(self._engine.n_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self._engine.n_actions))
        self.metadata = {
            **type(self).metadata,
            "simulator_fingerprint": sim.fingerprint,
            "simulator": type(sim).__name__,
        }

    # Public attributes the agents read -------------------------------------------------
    @property
    def simulator(self) -> Simulator:
        """The customer simulator stepping every slot."""
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
        """Current simulator state of all slots (for ``simulator.expected_week``)."""
        return self._engine.sim_state

    @property
    def week(self) -> np.ndarray:
        """Weeks played in each slot's current episode."""
        return self._engine.buffers.week

    @property
    def buffers(self) -> CustomerBuffers:
        """The live observation buffers (read-only by convention)."""
        return self._engine.buffers

    # Gymnasium API ---------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start a new episode with new customers in every slot.

        Args:
            seed: Root seed; every slot restarts its stream at episode 0. ``None`` moves each
                slot on to its next episode.
            options: Unused (accepted for API compatibility).
        """
        super().reset(seed=seed)
        self._engine.reset_all(seed)
        e = self._engine
        return e.observe(), {"customer_id": e.buffers.customer_id.copy(), "episode_index": e.episodes.copy()}

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one week for every slot, autoresetting finished ones in the same step."""
        e = self._engine
        a = e.check_actions(actions)
        reward, terminated, truncated, info = e.play_week(a)
        done = terminated | truncated
        if done.any():
            rows = np.flatnonzero(done)
            hist = e.buffers.history[rows]  # fancy indexing copies
            prof = e.buffers.profile[rows]
            final = np.full(self.num_envs, None, dtype=object)
            final[rows] = [{"history": h, "profile": p} for h, p in zip(hist, prof, strict=True)]
            info["final_obs"] = final
            info["_final_obs"] = done
            e.reset_rows(rows)
        return e.observe(), reward, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release (no subprocesses, no files)."""
