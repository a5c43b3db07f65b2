"""Counter-based streams: distinct per seed, slot and episode; reproducible; uniform."""

from __future__ import annotations

import numpy as np

from gan_simulator.rng import stream_keys, uniforms


def test_every_seed_slot_episode_has_its_own_stream() -> None:
    seeds, slots, episodes = np.meshgrid(np.arange(5), np.arange(50), np.arange(5), indexing="ij")
    keys = np.concatenate([
        stream_keys(int(s), slots[i].ravel(), episodes[i].ravel()) for i, s in enumerate(range(5))
    ])
    assert len(np.unique(keys)) == keys.size == seeds.size


def test_streams_do_not_depend_on_batch_composition() -> None:
    keys = stream_keys(3, np.arange(10), np.zeros(10, dtype=np.int64))
    full = uniforms(keys, counter=7, channels=3)
    alone = uniforms(keys[[4]], counter=7, channels=3)
    np.testing.assert_array_equal(full[4], alone[0])


def test_uniforms_look_uniform() -> None:
    u = uniforms(stream_keys(0, np.arange(20_000), np.zeros(20_000, dtype=np.int64)), 1, 4)
    assert 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.std() - np.sqrt(1 / 12)) < 0.005
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.03
