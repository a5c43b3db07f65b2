"""Next customers drawn ahead, in batches: autoreset without a small simulator call per step.

With ``SAME_STEP`` autoreset a batch of ``n`` customers over a 52-week horizon finishes about
``n / 52`` episodes per step. Drawing those few customers every step costs the simulator's
per-call overhead each time (for the GAN, more than the rest of the env step). The
:class:`CustomerPrefetch` keeps, for every slot, the customer of its *next* episode, drawn
from exactly the stream that slot would use (``stream_keys(seed, slot, episode)``, counter
0), and refills the consumed ones in one batched call once a quarter of them are used. The
customers are therefore the same as when drawn on demand (tested: vector env == single envs).

What it keeps is ready to copy: the simulator state rows, the week-0 observation rows
(:class:`~crm_env.observation.FirstWeeks`, computed once per refill) and the stream key of
the episode, so an autoreset is a handful of row copies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from crm_env.observation import FirstWeeks
from gan_simulator.protocol import CustomerDraw, Simulator, State, copy_rows
from gan_simulator.rng import stream_keys, uniforms


@dataclass
class Prepared:
    """Customers ready to start an episode: state rows, observation rows and stream keys."""

    state: State
    first: FirstWeeks
    keys: np.ndarray  # uint64[n], stream key of each customer's episode


class CustomerPrefetch:
    """The next episode's customer of each slot, refilled in batches.

    Args:
        simulator: Draws the customers.
        root_seed: The env's root seed.
        slots: Stream index of every slot.
        prepare: Turns a draw into its week-0 observation rows.
    """

    def __init__(
        self,
        simulator: Simulator,
        root_seed: int,
        slots: np.ndarray,
        prepare: Callable[[CustomerDraw], FirstWeeks],
    ) -> None:
        self.simulator = simulator
        self.root_seed = root_seed
        self.slots = slots
        self.prepare = prepare
        self.n = len(slots)
        self.threshold = max(1, self.n // 4)
        self.held: Prepared | None = None  # row i: the next customer of slot i
        self.episode = np.full(self.n, -1, dtype=np.int64)  # episode held for each slot

    def take(
        self, rows: np.ndarray, episodes: np.ndarray
    ) -> list[tuple[np.ndarray, Prepared, np.ndarray]]:
        """Customers for slots ``rows`` starting episode ``episodes[rows]``.

        Args:
            rows: Slots that start a new episode now.
            episodes: Current episode counter of *every* slot (already advanced for ``rows``).

        Returns:
            ``(slots, source, index)`` triples covering ``rows``: slots ``slots`` start with
            the customers at positions ``index`` of ``source``.
        """
        hit = self.episode[rows] == episodes[rows]
        parts: list[tuple[np.ndarray, Prepared, np.ndarray]] = []
        if self.held is not None and hit.any():
            mine = rows[hit]
            parts.append((mine, self.held, mine))
        miss = rows[~hit]
        stale = np.flatnonzero(self.episode != episodes + 1)
        if len(miss) == 0 and len(stale) < self.threshold:
            return parts
        if parts:  # the refill below overwrites these rows of ``held``: hand out copies
            mine = parts[0][0]
            parts[0] = (mine, _subset(self.held, mine), np.arange(len(mine)))
        keys = np.concatenate([
            stream_keys(self.root_seed, self.slots[miss], episodes[miss]),
            stream_keys(self.root_seed, self.slots[stale], episodes[stale] + 1),
        ])
        draw = self.simulator.draw_customers(uniforms(keys, 0, self.simulator.customer_noise_dim))
        fresh = Prepared(draw.state, self.prepare(draw), keys)
        m = len(miss)
        if m:
            parts.append((miss, fresh, np.arange(m)))
        self._store(stale, fresh, np.arange(m, m + len(stale)), episodes[stale] + 1)
        return parts

    def _store(self, slots: np.ndarray, fresh: Prepared, index: np.ndarray,
               episode: np.ndarray) -> None:
        if self.held is None:
            if len(slots) != self.n:  # only a full first fill can seed the buffers
                return
            self.held = _subset(fresh, index)
        else:
            copy_rows(self.held.state, slots, fresh.state, index)
            self.held.first.put(slots, fresh.first, index)
            self.held.keys[slots] = fresh.keys[index]
        self.episode[slots] = episode


def _subset(p: Prepared, index: np.ndarray) -> Prepared:
    """A copy of the customers at positions ``index`` of ``p``."""
    state: State = {}
    copy_rows(state, index, p.state, index, allocate=True)
    return Prepared(state, p.first.rows(index), p.keys[index])
