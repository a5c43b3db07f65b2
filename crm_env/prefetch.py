"""Next customers drawn ahead, in batches: autoreset without a small simulator call per step.

With ``SAME_STEP`` autoreset a batch of ``n`` customers over a 52-week horizon finishes about
``n / 52`` episodes per step. Drawing those few customers every step costs the simulator's
per-call overhead each time (for the GAN, more than the rest of the env step). The
:class:`CustomerPrefetch` keeps, for every slot, the customers of its next ``depth`` episodes,
each drawn from exactly the stream that slot would use (``stream_keys(seed, slot, episode)``,
counter 0), and refills the consumed ones in one batched call once a quarter of a batch is
used. The customers are therefore the same as when drawn on demand (tested: vector env ==
single envs).

Why more than one episode ahead: customers who opt out in their first weeks end episodes in
quick succession, and with one episode held such a slot finds nothing ready and forces a
draw every few steps (measured at 1,024 slots under random actions: a refill every 5.5
steps, 87 of 94 of them forced). Episode ``e`` of a slot lives in layer ``e % depth``, so a
slot is served from memory until it ends ``depth`` episodes between two refills.

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

DEPTH = 2
"""Episodes held ahead for every slot."""


@dataclass
class Prepared:
    """Customers ready to start an episode: state rows, observation rows and stream keys."""

    state: State
    first: FirstWeeks
    keys: np.ndarray  # uint64[n], stream key of each customer's episode


Place = Callable[[np.ndarray, Prepared, np.ndarray], None]
"""``place(slots, source, index)``: start ``slots`` with the customers ``index`` of ``source``."""


class CustomerPrefetch:
    """The next ``depth`` episodes' customers of each slot, refilled in batches.

    Args:
        simulator: Draws the customers.
        root_seed: The env's root seed.
        slots: Stream index of every slot.
        prepare: Turns a draw into its week-0 observation rows.
        depth: Episodes held ahead per slot.
    """

    def __init__(
        self,
        simulator: Simulator,
        root_seed: int,
        slots: np.ndarray,
        prepare: Callable[[CustomerDraw], FirstWeeks],
        depth: int = DEPTH,
    ) -> None:
        self.simulator = simulator
        self.root_seed = root_seed
        self.slots = slots
        self.prepare = prepare
        self.n = len(slots)
        self.depth = int(depth)
        self.threshold = max(1, self.n // 4)
        # row d * n + i: a customer of slot i for an episode e with e % depth == d
        self.held: Prepared | None = None
        self.episode = np.full((self.depth, self.n), -1, dtype=np.int64)
        self._layers = np.arange(self.depth)[:, None]
        self._consumed = 0  # held customers placed since the last refill (= stale entries)

    def take(self, rows: np.ndarray, episodes: np.ndarray, place: Place) -> None:
        """Start the slots ``rows`` with their customers of episode ``episodes[rows]``.

        Held customers are placed first, then a batched draw (when some slot found nothing
        held, or a quarter of a batch was consumed) serves the rest and refills every layer.

        Args:
            rows: Slots that start a new episode now.
            episodes: Current episode counter of *every* slot (already advanced for ``rows``).
            place: Called once per source with the slots it serves.
        """
        e = episodes[rows]
        layer = e % self.depth
        hit = self.episode[layer, rows] == e
        if self.held is not None and hit.any():
            place(rows[hit], self.held, (layer * self.n + rows)[hit])
        miss = rows[~hit]
        self._consumed += len(rows) - len(miss)
        if len(miss) == 0 and self._consumed < self.threshold:
            return
        self._consumed = 0
        want = episodes + 1 + (self._layers - episodes - 1) % self.depth  # [depth, n]
        d_stale, s_stale = np.nonzero(self.episode != want)
        keys = np.concatenate([
            stream_keys(self.root_seed, self.slots[miss], episodes[miss]),
            stream_keys(self.root_seed, self.slots[s_stale], want[d_stale, s_stale]),
        ])
        draw = self.simulator.draw_customers(uniforms(keys, 0, self.simulator.customer_noise_dim))
        fresh = Prepared(draw.state, self.prepare(draw), keys)
        m = len(miss)
        if m:
            place(miss, fresh, np.arange(m))
        at = d_stale * self.n + s_stale  # rows of ``held``, in ascending order
        index = np.arange(m, m + len(at))
        if self.held is None:
            if len(at) != self.depth * self.n:  # only a full first fill can seed the rows
                return
            state: State = {}
            copy_rows(state, index, fresh.state, index, allocate=True)
            self.held = Prepared(state, fresh.first.rows(index), fresh.keys[index])
        else:
            copy_rows(self.held.state, at, fresh.state, index)
            self.held.first.put(at, fresh.first, index)
            self.held.keys[at] = fresh.keys[index]
        self.episode[d_stale, s_stale] = want[d_stale, s_stale]
