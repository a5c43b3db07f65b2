"""The env's noise: :func:`gan_simulator.rng.uniforms`, computed in place for speed.

Every step the env needs ``n x channels`` uniforms. :func:`gan_simulator.rng.uniforms`
allocates a fresh array for each of its ~15 NumPy operations; :class:`NoiseSource` runs the
same SplitMix64 arithmetic in preallocated scratch buffers, which is several times faster at
the env's batch sizes and returns *bit-identical* numbers (tested), so common random numbers
hold across the env, the agents' rollouts and the simulators' own helpers.

>>> import numpy as np
>>> from gan_simulator.rng import stream_keys, uniforms
>>> keys = stream_keys(3, np.arange(5), np.zeros(5, dtype=np.int64))
>>> src = NoiseSource()
>>> bool(np.array_equal(src.uniforms(keys, np.arange(5), 4), uniforms(keys, np.arange(5), 4)))
True
"""

from __future__ import annotations

import numpy as np

from gan_simulator import rng


def _mix_inplace(z: np.ndarray, tmp: np.ndarray) -> None:
    """SplitMix64 finaliser of :func:`gan_simulator.rng.mix64`, in place."""
    z += rng._GOLDEN
    np.right_shift(z, rng._S30, out=tmp)
    z ^= tmp
    z *= rng._M1
    np.right_shift(z, rng._S27, out=tmp)
    z ^= tmp
    z *= rng._M2
    np.right_shift(z, rng._S31, out=tmp)
    z ^= tmp


class NoiseSource:
    """Reusable scratch space for :meth:`uniforms` (one per env)."""

    def __init__(self) -> None:
        self._scratch: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}

    def _buffers(self, n: int, channels: int) -> tuple[np.ndarray, ...]:
        bufs = self._scratch.get((n, channels))
        if bufs is None:
            ch = np.arange(1, channels + 1, dtype=np.uint64) * rng._CHANNEL_MUL
            bufs = (
                np.empty(n, dtype=np.uint64),
                np.empty(n, dtype=np.uint64),
                np.empty((n, channels), dtype=np.uint64),
                np.empty((n, channels), dtype=np.uint64),
                ch,
            )
            self._scratch[(n, channels)] = bufs
        return bufs

    def uniforms(self, keys: np.ndarray, counter: int | np.ndarray, channels: int) -> np.ndarray:
        """Exactly ``gan_simulator.rng.uniforms(keys, counter, channels)`` for 1-D ``keys``.

        Returns a new ``float64[n, channels]`` array (the simulator may keep it).
        """
        n = keys.shape[0]
        base, tmp, z, tmpz, ch = self._buffers(n, channels)
        with np.errstate(over="ignore"):
            np.multiply(
                np.broadcast_to(np.asarray(counter, dtype=np.int64), (n,)).astype(np.uint64),
                rng._COUNTER_MUL,
                out=base,
            )
            base ^= keys
            _mix_inplace(base, tmp)
            np.bitwise_xor(base[:, None], ch, out=z)
            _mix_inplace(z, tmpz)
            z >>= rng._S11
        out = z.astype(np.float64)
        out += 0.5
        out *= rng._INV53
        return out
