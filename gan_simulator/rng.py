"""Counter-based random numbers: one root seed, independent streams, no hidden state.

The environment needs *common random numbers*: the luck of customer ``i`` in week ``t`` must
not depend on which actions were taken, nor on how many customers share the batch. A
stateful generator cannot promise that, so every random number here is a pure function of
``(stream key, counter, channel)`` computed with the SplitMix64 finaliser (Steele, Lea &
Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), vectorised in NumPy.

>>> keys = stream_keys(7, np.arange(3), np.zeros(3, dtype=np.int64))
>>> u1 = uniforms(keys, counter=5, channels=2)
>>> u2 = uniforms(keys[1:2], counter=5, channels=2)
>>> bool(np.all(u1[1] == u2[0]))
True
>>> bool(stream_keys(1, np.zeros(1), np.zeros(1))[0] != stream_keys(2, np.zeros(1), np.zeros(1))[0])
True
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_COUNTER_MUL = np.uint64(0xD1B54A32D192ED03)
_CHANNEL_MUL = np.uint64(0xABC98388FB8FAC03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / float(1 << 53)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser applied elementwise to a ``uint64`` array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


def stream_keys(root_seed: int, slots: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Keys of independent streams, one per ``(slot, episode)`` pair, derived from a root seed.

    Args:
        root_seed: The run's single root seed (any non-negative int).
        slots: Integer array, e.g. the env index of each customer.
        episodes: Integer array of the same shape, e.g. how many episodes that slot has run.

    Returns:
        ``uint64`` array of keys with the shape of ``slots``.
    """
    root = mix64(mix64(np.asarray([root_seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)))[0]
    # Nested (not symmetric) hashing: every (root, slot, episode) triple gets its own key.
    slot_key = mix64(np.asarray(slots, dtype=np.int64).astype(np.uint64) ^ root)
    return mix64(slot_key ^ mix64(np.asarray(episodes, dtype=np.int64).astype(np.uint64)))


def uniforms(keys: np.ndarray, counter: int | np.ndarray, channels: int) -> np.ndarray:
    """Uniform numbers in the open interval (0, 1), shape ``keys.shape + (channels,)``.

    Args:
        keys: ``uint64`` stream keys from :func:`stream_keys`.
        counter: Position in each stream (e.g. the week); a scalar or an array like ``keys``.
        channels: How many numbers to draw per key at this counter.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    ctr = np.asarray(counter, dtype=np.int64).astype(np.uint64)
    ch = np.arange(1, channels + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        base = mix64(keys ^ (ctr * _COUNTER_MUL))
        z = mix64(base[..., None] ^ (ch * _CHANNEL_MUL))
    return ((z >> _S11).astype(np.float64) + 0.5) * _INV53


def normals(u: np.ndarray) -> np.ndarray:
    """Standard normal deviates from uniforms by the inverse CDF (keeps the stream aligned)."""
    from scipy.special import ndtri

    return ndtri(u)
