"""The env's in-place noise is bit-identical to gan_simulator.rng.uniforms."""

from __future__ import annotations

import numpy as np
import pytest

from crm_env.noise import NoiseSource
from gan_simulator.rng import stream_keys, uniforms


@pytest.mark.parametrize("channels", [1, 7, 12])
def test_noise_source_equals_rng_uniforms(channels: int) -> None:
    src = NoiseSource()
    for n in (1, 33, 1000):
        keys = stream_keys(123, np.arange(n) + 5, np.arange(n) % 3)
        for counter in (0, 1, 51, np.arange(n) % 52 + 1):
            np.testing.assert_array_equal(
                src.uniforms(keys, counter, channels), uniforms(keys, counter, channels)
            )


def test_noise_arrays_are_fresh() -> None:
    src = NoiseSource()
    keys = stream_keys(0, np.arange(4), np.zeros(4, dtype=np.int64))
    a = src.uniforms(keys, 1, 3)
    b = src.uniforms(keys, 2, 3)
    assert not np.shares_memory(a, b) and not np.array_equal(a, b)
