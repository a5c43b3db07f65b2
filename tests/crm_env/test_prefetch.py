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


def _features(parts, rows: np.ndarray) -> np.ndarray:
    out = {}
    for part, source, index in parts:
        for r, i in zip(part, index, strict=True):
            out[int(r)] = _row(source.first, source.state, source.keys, int(i))
    return np.stack([out[int(r)] for r in rows])


def test_hits_and_misses_give_the_on_demand_customers() -> None:
    sim = StructuralSimulator()
    slots = np.arange(8)
    pre = CustomerPrefetch(sim, 5, slots, _prepare)
    episodes = np.zeros(8, dtype=np.int64)
    hits = 0
    for rows in ([0, 1], [0], [2, 3, 0], [0], [4, 5, 6, 7, 1], [2, 3], [0, 1, 2, 3, 4, 5]):
        rows = np.array(rows)
        episodes[rows] += 1
        parts = pre.take(rows, episodes)
        hits += sum(len(p) for p, source, _ in parts if source is pre.held)
        got = _features(parts, rows)
        np.testing.assert_array_equal(got, _direct(sim, slots[rows], episodes[rows]))
    assert hits > 0  # the prefetched customers were used, not only on-demand draws


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
