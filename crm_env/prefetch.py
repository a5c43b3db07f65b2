"""Next customers drawn ahead, in batches: autoreset without a small simulator call per step.

With ``SAME_STEP`` autoreset a batch of ``n`` customers over a 52-week horizon finishes about
``n / 52`` episodes per step. Drawing those few customers every step costs the simulator's
per-call overhead each time (for the GAN, more than the rest of the env step). The
:class:`CustomerPrefetch` keeps, for every slot, the customer of its *next* episode, drawn
from exactly the stream that slot would use (``stream_keys(seed, slot, episode)``, counter
0), and refills the consumed ones in one batched call once a quarter of them are used. The
customers are therefore the same as when drawn on demand (tested: vector env == single envs).
"""

from __future__ import annotations

import numpy as np

from gan_simulator.protocol import CustomerDraw, Simulator, State, merge_rows
from gan_simulator.rng import stream_keys, uniforms


def take_rows(draw: CustomerDraw, index: np.ndarray) -> CustomerDraw:
    """The customers at positions ``index`` of ``draw`` (copies; NumPy or torch state)."""
    state: State = {}
    for key, value in draw.state.items():
        if hasattr(value, "index_select"):  # torch tensor
            import torch

            state[key] = value.index_select(
                0, torch.as_tensor(index, dtype=torch.long, device=value.device)
            )
        else:
            state[key] = value[index]
    return CustomerDraw(
        state=state,
        static=np.asarray(draw.static)[index],
        history=np.asarray(draw.history)[index],
        history_mask=np.asarray(draw.history_mask)[index],
        customer_ids=np.asarray(draw.customer_ids)[index],
    )


class CustomerPrefetch:
    """The next episode's customer of each slot, refilled in batches.

    Args:
        simulator: Draws the customers.
        root_seed: The env's root seed.
        slots: Stream index of every slot.
    """

    def __init__(self, simulator: Simulator, root_seed: int, slots: np.ndarray) -> None:
        self.simulator = simulator
        self.root_seed = root_seed
        self.slots = slots
        self.n = len(slots)
        self.threshold = max(1, self.n // 4)
        self.draw: CustomerDraw | None = None
        self.episode = np.full(self.n, -1, dtype=np.int64)  # episode held for each slot

    def take(self, rows: np.ndarray, episodes: np.ndarray) -> list[tuple[np.ndarray, CustomerDraw]]:
        """Customers for slots ``rows`` starting episode ``episodes[rows]``.

        Args:
            rows: Slots that start a new episode now.
            episodes: Current episode counter of *every* slot (already advanced for ``rows``).

        Returns:
            ``(rows_subset, draw)`` pairs covering ``rows``.
        """
        need = episodes[rows]
        hit = self.episode[rows] == need
        parts: list[tuple[np.ndarray, CustomerDraw]] = []
        if self.draw is not None and hit.any():
            parts.append((rows[hit], take_rows(self.draw, rows[hit])))
        miss = rows[~hit]
        stale = np.flatnonzero(self.episode != episodes + 1)
        if len(miss) == 0 and len(stale) < self.threshold:
            return parts
        keys = np.concatenate([
            stream_keys(self.root_seed, self.slots[miss], episodes[miss]),
            stream_keys(self.root_seed, self.slots[stale], episodes[stale] + 1),
        ])
        fresh = self.simulator.draw_customers(uniforms(keys, 0, self.simulator.customer_noise_dim))
        m = len(miss)
        if m:
            parts.append((miss, take_rows(fresh, np.arange(m))))
        refill = take_rows(fresh, np.arange(m, m + len(stale)))
        self._store(stale, refill, episodes[stale] + 1)
        return parts

    def _store(self, slots: np.ndarray, draw: CustomerDraw, episode: np.ndarray) -> None:
        if self.draw is None:
            if len(slots) != self.n:  # only a full first fill can seed the buffers
                return
            self.draw = draw
        elif np.shape(draw.history)[1:] != np.shape(self.draw.history)[1:]:
            # A simulator whose history length varies between draws: keep what fits.
            self.episode[slots] = -1
            return
        else:
            merge_rows(self.draw.state, slots, draw.state)
            for name in ("static", "history", "history_mask", "customer_ids"):
                getattr(self.draw, name)[slots] = getattr(draw, name)
        self.episode[slots] = episode
