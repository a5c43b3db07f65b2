"""Customers drawn ahead are exactly the customers drawn on demand."""

from __future__ import annotations

import numpy as np

from crm_env import CRMEnv, CRMVectorEnv
from crm_env.observation import ObservationLayout, first_weeks
from crm_env.prefetch import CustomerPrefetch
from gan_simulator.rng import stream_keys, uniforms
from gan_simulator.structural import StructuralSimulator

LAYOUT = ObservationLayout(StructuralSimulator().catalog.names, StructuralSimulator.static_names, 8)


def _prepare(draw):
    return first_weeks(draw, LAYOUT, 52)


def _row(first, state, keys, i: int) -> np.ndarray:
    return np.concatenate([first.block[i].ravel(), first.profile[i], [first.spend_sum[i]],
                           [state["rate"][i], state["dropout_p"][i]], [float(keys[i])]])


def _direct(sim: StructuralSimulator, slots: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    keys = stream_keys(5, slots, episodes)
    draw = sim.draw_customers(uniforms(keys, 0, sim.customer_noise_dim))
    first = _prepare(draw)
    return np.stack([_row(first, draw.state, keys, i) for i in range(len(slots))])


def _taken(pre: CustomerPrefetch, rows: np.ndarray, episodes: np.ndarray) -> tuple[np.ndarray, int]:
    """Features of the customers placed in ``rows`` and how many came from held layers."""
    out: dict[int, np.ndarray] = {}
    held = [0]

    def place(part, source, index) -> None:
        held[0] += len(part) * (source is pre.held)
        for r, i in zip(part, index, strict=True):
            assert int(r) not in out  # every slot is placed exactly once
            out[int(r)] = _row(source.first, source.state, source.keys, int(i))

    pre.take(rows, episodes, place)
    return np.stack([out[int(r)] for r in rows]), held[0]


def test_hits_and_misses_give_the_on_demand_customers() -> None:
    sim = StructuralSimulator()
    slots = np.arange(8)
    pre = CustomerPrefetch(sim, 5, slots, _prepare)
    episodes = np.zeros(8, dtype=np.int64)
    hits = 0
    for rows in ([0, 1], [0], [2, 3, 0], [0], [0], [0], [4, 5, 6, 7, 1], [2, 3],
                 [0, 1, 2, 3, 4, 5]):
        rows = np.array(rows)
        episodes[rows] += 1
        got, held = _taken(pre, rows, episodes)
        hits += held
        np.testing.assert_array_equal(got, _direct(sim, slots[rows], episodes[rows]))
    assert hits > 0  # the prefetched customers were used, not only on-demand draws


def test_a_slot_ending_episodes_in_quick_succession_is_served_from_memory() -> None:
    """With two episodes held, a slot that ends two episodes between refills needs no draw."""
    sim = StructuralSimulator()
    slots = np.arange(64)
    pre = CustomerPrefetch(sim, 5, slots, _prepare, depth=2)
    episodes = np.zeros(64, dtype=np.int64)
    rows = np.array([0, 1, 2])
    episodes[rows] += 1
    _taken(pre, rows, episodes)  # first call: nothing held yet, one draw fills both layers
    draws = []
    original = sim.draw_customers
    sim.draw_customers = lambda u: draws.append(len(u)) or original(u)
    for _ in range(2):  # 3 stale customers each time: under the refill threshold (16)
        episodes[rows] += 1
        got, held = _taken(pre, rows, episodes)
        assert held == 3
        np.testing.assert_array_equal(got, _direct(StructuralSimulator(), slots[rows], episodes[rows]))
    assert draws == []
    episodes[rows] += 1  # a third episode in a row: nothing held, one draw serves and refills
    got, held = _taken(pre, rows, episodes)
    assert held == 0 and len(draws) == 1
    np.testing.assert_array_equal(got, _direct(StructuralSimulator(), slots[rows], episodes[rows]))


def test_vector_env_with_early_terminations_equals_single_envs() -> None:
    n, horizon = 24, 6
    vec = CRMVectorEnv(num_envs=n, simulator="structural", seed=31, horizon=horizon)
    singles = [CRMEnv(simulator="structural", seed=31, slot=i, horizon=horizon) for i in range(n)]
    obs, _ = vec.reset()
    for env in singles:
        env.reset()
    terminations = 0
    for _ in range(40):
        obs, reward, term, trunc, _ = vec.step(np.full(n, 3))  # discount spam: opt-outs
        terminations += int(term.sum())
        for i, env in enumerate(singles):
            o, r, te, tr, _ = env.step(3)
            assert r == reward[i] and te == term[i] and tr == trunc[i]
            if te or tr:
                o, _ = env.reset()
            np.testing.assert_array_equal(obs["profile"][i], o["profile"])
            np.testing.assert_array_equal(obs["history"][i], o["history"])
    assert terminations > 0
