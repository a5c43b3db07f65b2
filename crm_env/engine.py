"""The batched core shared by :class:`~crm_env.CRMVectorEnv` and :class:`~crm_env.CRMEnv`.

:class:`CustomerEngine` owns what the Gymnasium classes need to stay thin: the simulator
state, the observation buffers, the random stream of every slot and the money accounting.
All randomness follows one rule (common random numbers): slot ``s`` in its ``e``-th episode
draws from the stream ``stream_keys(root_seed, s, e)``; its customer comes from counter 0 and
week ``t`` from counter ``t + 1``. The luck of a customer therefore depends on neither the
actions taken nor the other slots of the batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from crm_env.config import EnvConfig
from crm_env.noise import NoiseSource
from crm_env.observation import (
    CustomerBuffers,
    FirstWeeks,
    ObservationLayout,
    advance_week,
    first_weeks,
    observe,
    place_rows,
)
from crm_env.prefetch import CustomerPrefetch, Prepared
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import CustomerDraw, Simulator, State, WeekOutcome, copy_rows
from gan_simulator.rng import stream_keys, uniforms

log = logging.getLogger(__name__)

INFO_KEYS: tuple[str, ...] = (
    "revenue",
    "gross_spend",
    "discount_cost",
    "cogs",
    "contact_cost",
    "incentive_cost",
    "purchased",
    "transactions",
    "customer_id",
    "week",
    "slot",
    "episode_index",
    "action",
)
"""Keys of the per-step ``info`` dict; each value is an array over the slots."""


@dataclass(frozen=True)
class ActionTable:
    """Per-code cost arrays of a catalogue (indexed by action code)."""

    contact_cost: np.ndarray
    discount: np.ndarray
    incentive_cost: np.ndarray
    is_contact: np.ndarray
    is_discount: np.ndarray

    @classmethod
    def from_catalog(cls, catalog: ActionCatalog) -> ActionTable:
        """Build the table from an :class:`ActionCatalog`."""
        discount = catalog.array("discount")
        return cls(
            contact_cost=catalog.array("contact_cost"),
            discount=discount,
            incentive_cost=catalog.array("incentive_cost"),
            is_contact=np.array([a.is_contact for a in catalog.actions], dtype=np.float32),
            is_discount=(discount > 0).astype(np.float32),
        )


def account_week(
    table: ActionTable, actions: np.ndarray, outcome: WeekOutcome, margin: float
) -> dict[str, np.ndarray]:
    """Money of one week per customer, in dollars.

    ``reward = margin * gross_spend - discount_cost - contact_cost - incentive_cost``, which
    equals ``revenue - cogs - contact_cost - incentive_cost`` with ``revenue`` the price paid
    (list price less discount) and ``cogs = (1 - margin) * gross_spend`` the cost of the goods.

    Args:
        table: Costs per action code.
        actions: ``int64[n]`` effective action codes.
        outcome: What the customers did (``spend`` at list price).
        margin: Gross margin on list-price sales.

    Returns:
        Arrays ``reward``, ``revenue``, ``gross_spend``, ``discount_cost``, ``cogs``,
        ``contact_cost`` and ``incentive_cost`` (float64[n]).
    """
    gross = np.asarray(outcome.spend, dtype=np.float64)
    discount_cost = table.discount[actions] * gross
    contact_cost = table.contact_cost[actions]
    incentive_cost = table.incentive_cost[actions] * outcome.purchased
    reward = margin * gross - discount_cost - contact_cost - incentive_cost
    return {
        "reward": reward,
        "revenue": gross - discount_cost,
        "gross_spend": gross,
        "discount_cost": discount_cost,
        "cogs": (1.0 - margin) * gross,
        "contact_cost": contact_cost,
        "incentive_cost": incentive_cost,
    }


class CustomerEngine:
    """``n`` env slots of customers: buffers, streams, simulator state and accounting.

    Args:
        simulator: Any :class:`~gan_simulator.protocol.Simulator`.
        config: Environment settings.
        slots: ``int64[n]`` stream index of each slot (``CRMEnv(slot=i)`` uses ``[i]``).
    """

    def __init__(self, simulator: Simulator, config: EnvConfig, slots: np.ndarray) -> None:
        self.simulator = simulator
        self.config = config
        self.catalog: ActionCatalog = simulator.catalog
        self.layout = ObservationLayout(
            self.catalog.names, tuple(simulator.static_names), config.window
        )
        self.table = ActionTable.from_catalog(self.catalog)
        self.slots = np.asarray(slots, dtype=np.int64)
        self.n = len(self.slots)
        self.n_actions = len(self.catalog)
        self.buffers = CustomerBuffers.allocate(self.layout, self.n)
        self.episodes = np.zeros(self.n, dtype=np.int64)
        self.keys = np.zeros(self.n, dtype=np.uint64)
        self.sim_state: State = {}
        self.root_seed: int | None = None
        self._started = False
        self._continue = config.opt_out == "continue"
        self._noise = NoiseSource()
        self._prefetch: CustomerPrefetch | None = None

    def reset_all(self, seed: int | None) -> None:
        """Start a new episode in every slot.

        With ``seed`` the streams restart at episode 0 of that root seed; without it every
        slot moves on to its next episode (new customers, never a cached first state).
        """
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
                raise EnvArgumentError(f"seed={seed!r} must be a non-negative integer or None")
            self.root_seed = int(seed)
        elif self.root_seed is None:
            self.root_seed = self.config.seed
            if self.root_seed is None:
                self.root_seed = int(np.random.SeedSequence().entropy % (1 << 63))
                log.info("no seed given; drew root seed %d", self.root_seed)
        elif self._started:
            self.reset_rows(np.arange(self.n))
            return
        self._started = True
        self.episodes[:] = 0
        self.keys[:] = stream_keys(self.root_seed, self.slots, self.episodes)
        draw = self.simulator.draw_customers(
            uniforms(self.keys, 0, self.simulator.customer_noise_dim)
        )
        self.sim_state = draw.state
        place_rows(self.buffers, np.arange(self.n), self._first_weeks(draw))
        self._prefetch = CustomerPrefetch(
            self.simulator, self.root_seed, self.slots, self._first_weeks
        )

    def _first_weeks(self, draw: CustomerDraw) -> FirstWeeks:
        return first_weeks(draw, self.layout, self.config.horizon)

    def reset_rows(self, rows: np.ndarray) -> None:
        """Start the next episode in the slots ``rows`` only (autoreset)."""
        self.episodes[rows] += 1
        self._prefetch.take(rows, self.episodes, self._place)

    def _place(self, rows: np.ndarray, source: Prepared, index: np.ndarray) -> None:
        self.keys[rows] = source.keys[index]
        copy_rows(self.sim_state, rows, source.state, index)
        place_rows(self.buffers, rows, source.first, index)

    def check_actions(self, actions: object) -> np.ndarray:
        """Validate a batch of action codes; returns ``int64[n]``."""
        a = np.asarray(actions)
        if a.shape != (self.n,):
            a = a.reshape(-1) if a.size == self.n else a
        if a.shape != (self.n,) or not (
            np.issubdtype(a.dtype, np.integer)
            or (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)))
        ):
            raise EnvArgumentError(
                f"actions must be {self.n} integer action code(s) in [0, {self.n_actions}); "
                f"got {actions!r}"
            )
        a = a.astype(np.int64, copy=False)
        if self.n and (a.min() < 0 or a.max() >= self.n_actions):
            raise EnvArgumentError(
                f"action code out of range: got {a.min()}..{a.max()}, allowed 0..{self.n_actions - 1} "
                f"({', '.join(self.catalog.names)})"
            )
        return a

    def play_week(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Play one week for every slot (no autoreset).

        Returns:
            ``reward`` float64[n] (scaled), ``terminated`` bool[n], ``truncated`` bool[n] and
            the ``info`` dict of arrays (money in dollars) describing the week just played.
        """
        if not self._started:
            raise EnvArgumentError("call reset() before step()")
        buf = self.buffers
        if self._continue and buf.opted_out.any():
            actions = np.where(buf.opted_out, 0, actions)
        week = buf.week.copy()
        u = self._noise.uniforms(self.keys, week + 1, self.simulator.step_noise_dim)
        self.sim_state, out = self.simulator.step(self.sim_state, actions, u)
        parts = account_week(self.table, actions, out, self.config.margin)
        purchased = np.asarray(out.purchased, dtype=bool)
        opted = np.asarray(out.opted_out, dtype=bool)
        advance_week(
            buf,
            actions,
            purchased,
            np.asarray(out.transactions, dtype=np.float32),
            np.asarray(out.spend, dtype=np.float32),
            opted,
            self.table.is_contact,
            self.table.is_discount,
            len(self.layout.static_names),
        )
        reward = parts.pop("reward")
        if self.config.reward_scale != 1.0:
            reward = reward * self.config.reward_scale
        terminated = opted.copy() if not self._continue else np.zeros(self.n, dtype=bool)
        truncated = buf.week >= self.config.horizon
        info = parts
        info["purchased"] = purchased
        info["transactions"] = np.asarray(out.transactions, dtype=np.float32)
        info["customer_id"] = buf.customer_id.copy()
        info["week"] = week
        info["slot"] = self.slots.copy()
        info["episode_index"] = self.episodes.copy()
        info["action"] = actions.copy()
        return reward, terminated, truncated, info

    def observe(self) -> dict[str, np.ndarray]:
        """Current observation of every slot."""
        return observe(self.buffers, self.config.copy_observations)
