"""The contract between customer simulators and the environment.

Two implementations exist: :class:`gan_simulator.simulator.GANSimulator` (learned from
history) and :class:`gan_simulator.structural.StructuralSimulator` (the ground-truth world
with known action effects). The environment, agents and tests talk only to this protocol.

Randomness is supplied *by the caller* as uniforms in (0, 1) (see :mod:`gan_simulator.rng`),
so the env controls common random numbers: a simulator never owns a random generator.
Everything is batched: one call handles all ``n`` customers.

State is simulator-private: a ``dict`` of arrays (NumPy or torch) whose first axis is the
customer. :func:`copy_rows` replaces some customers' state (used by autoreset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gan_simulator.actions import ActionCatalog

State = dict[str, Any]
"""Simulator-private per-customer state: arrays with the customer on axis 0."""

WEEK_FEATURES: tuple[str, ...] = ("purchased", "transactions", "spend")
"""Per-week behaviour every simulator reports, in this order, in ``CustomerDraw.history``."""


@dataclass
class WeekOutcome:
    """What a batch of customers did in one week.

    Attributes:
        purchased: ``bool[n]``, at least one purchase this week.
        transactions: ``float32[n]``, number of purchases (0 when not purchased).
        spend: ``float32[n]``, dollars at list price (before any discount).
        opted_out: ``bool[n]``, the customer opted out of all contact this week (absorbing).
    """

    purchased: np.ndarray
    transactions: np.ndarray
    spend: np.ndarray
    opted_out: np.ndarray

    def as_features(self) -> np.ndarray:
        """``float32[n, 3]`` in :data:`WEEK_FEATURES` order."""
        return np.stack(
            [self.purchased.astype(np.float32), self.transactions, self.spend], axis=1
        ).astype(np.float32, copy=False)


@dataclass
class CustomerDraw:
    """A batch of customers at the start of an episode.

    Attributes:
        state: Simulator-private state (see :data:`State`).
        static: ``float32[n, S]`` static profile, columns named by ``Simulator.static_names``.
        history: ``float32[n, H, 3]`` weeks observed before the episode, oldest first, features
            in :data:`WEEK_FEATURES` order; ``H >= 1`` and the acquisition week is included.
        history_mask: ``bool[n, H]``; ``False`` for weeks before the customer existed.
        customer_ids: ``int64[n]``: row of a real customer in the simulator's pool, or ``-1``
            for a newly generated synthetic customer.
    """

    state: State
    static: np.ndarray
    history: np.ndarray
    history_mask: np.ndarray
    customer_ids: np.ndarray


@runtime_checkable
class Simulator(Protocol):
    """A batched, stateless-by-design customer simulator.

    Attributes:
        catalog: The actions whose integer codes ``step`` accepts.
        static_names: Names of the columns of ``CustomerDraw.static``.
        customer_noise_dim: Uniforms per customer consumed by :meth:`draw_customers`.
        step_noise_dim: Uniforms per customer consumed by :meth:`step`.
        fingerprint: Short hash identifying the simulator's parameters (goes in env metadata).
        has_latent_state: Whether :meth:`latent` returns the true hidden state (oracle).
    """

    catalog: ActionCatalog
    static_names: tuple[str, ...]
    customer_noise_dim: int
    step_noise_dim: int
    fingerprint: str
    has_latent_state: bool

    def draw_customers(self, u: np.ndarray) -> CustomerDraw:
        """Draw ``n = len(u)`` customers from uniforms ``u[n, customer_noise_dim]``."""
        ...

    def step(
        self, state: State, actions: np.ndarray, u: np.ndarray
    ) -> tuple[State, WeekOutcome]:
        """Advance every customer one week.

        Args:
            state: Current state of ``n`` customers.
            actions: ``int64[n]`` action codes of ``catalog`` applied this week.
            u: ``float64[n, step_noise_dim]`` uniforms, independent of ``actions``.

        Returns:
            The new state and what each customer did this week.
        """
        ...

    def expected_week(self, state: State, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purchase probability and expected list-price spend this week under ``actions``.

        Does not advance the state. Used by the ``myopic_uplift`` heuristic.
        """
        ...

    def latent(self, state: State) -> dict[str, np.ndarray] | None:
        """True hidden state (e.g. ``alive``, ``rate``) when the simulator has one, else None."""
        ...


def copy_rows(state: State, rows: np.ndarray, source: State, index: np.ndarray,
              allocate: bool = False) -> State:
    """``state[key][rows] = source[key][index]`` for every key (in place; NumPy or torch).

    With ``allocate`` the keys missing from ``state`` are created as copies of
    ``source[key][index]`` (``rows`` is then ignored for them). Returns ``state``.

    CPU tensors are copied through their NumPy views (shared memory): a NumPy fancy-index
    copy of a few rows costs a fraction of a torch ``index_select``/``index_copy_`` pair, and
    an autoreset copies a few rows of every key each step.
    """
    for key, src in source.items():
        if allocate and key not in state:
            state[key] = src[index] if isinstance(src, np.ndarray) else _torch_pick(src, index)
            continue
        dst = state[key]
        if isinstance(dst, np.ndarray) or isinstance(src, np.ndarray):
            dst[rows] = np.asarray(src)[index]
        elif src.dtype == dst.dtype and (view := _numpy_view(dst)) is not None \
                and (origin := _numpy_view(src)) is not None:
            view[rows] = origin[index]
        else:
            picked = _torch_pick(src, index)
            rows_t = _torch_index(rows, dst.device)
            dst.index_copy_(0, rows_t, picked.to(dst.device, dst.dtype))
    return state


def _numpy_view(t: Any) -> np.ndarray | None:
    """The NumPy view of a CPU tensor outside autograd (shared memory), else None."""
    try:
        return t.numpy()
    except (RuntimeError, TypeError):  # needs grad, or not on the CPU
        return None


def _torch_index(index: np.ndarray, device: Any) -> Any:
    import torch

    return torch.as_tensor(index, dtype=torch.long, device=device)


def _torch_pick(src: Any, index: np.ndarray) -> Any:
    return src.index_select(0, _torch_index(index, src.device))
