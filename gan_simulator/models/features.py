"""Fitted feature transforms between a customer panel and the GAN's tensors.

The networks see standardised numbers; users see purchase days and dollars. This module owns
that mapping in both directions, fits it on training customers only, and serialises it as
plain JSON so a checkpoint carries it without pickle.

Per customer the GAN models a *profile* (the panel's static columns plus the acquisition
week's purchase days and spend) and, aligned so that position 0 is the acquisition week, a
weekly sequence of ``(purchased, count, spend)`` where ``count`` is the number of distinct
purchase days (the panel feature ``purchase_days``; ``transactions`` when a panel lacks it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gan_simulator.errors import DataError

COUNT_FEATURES: tuple[str, ...] = ("purchase_days", "transactions")
"""Panel features tried, in order, for the weekly count the GAN models."""

MAX_COUNT_CAP = 14
"""Largest count class the generator can emit (weekly purchase days are at most 7)."""


def count_feature_name(feature_names: tuple[str, ...]) -> str:
    """The panel feature used as the weekly count (``purchase_days`` preferred)."""
    for name in COUNT_FEATURES:
        if name in feature_names:
            return name
    raise DataError(
        f"the panel has features {list(feature_names)} but the GAN needs one of "
        f"{list(COUNT_FEATURES)}; rebuild it with gan_simulator.data.build_panel"
    )


@dataclass(frozen=True)
class FeatureTransform:
    """Standardisation constants fitted on training customers.

    Attributes:
        static_names: Names of the panel's static columns, in order.
        static_log: Per static column, whether ``log1p`` is applied before standardising.
        static_mean: Per static column, mean of the (logged) value.
        static_std: Per static column, standard deviation of the (logged) value.
        static_integer: Per static column, whether generated values are rounded.
        static_min: Per static column, smallest value seen (generated values are clipped).
        static_max: Per static column, largest value seen.
        spend_mean: Mean of ``log1p(spend)`` over purchase weeks.
        spend_std: Standard deviation of ``log1p(spend)`` over purchase weeks.
        count_mean: Mean of ``log1p(count)`` over purchase weeks (for the profile column).
        count_std: Standard deviation of ``log1p(count)`` over purchase weeks.
        max_count: Number of count classes ``1..max_count`` the generator emits.
        count_feature: Panel feature modelled as the weekly count.
    """

    static_names: tuple[str, ...]
    static_log: tuple[bool, ...]
    static_mean: tuple[float, ...]
    static_std: tuple[float, ...]
    static_integer: tuple[bool, ...]
    static_min: tuple[float, ...]
    static_max: tuple[float, ...]
    spend_mean: float
    spend_std: float
    count_mean: float
    count_std: float
    max_count: int
    count_feature: str

    @property
    def profile_dim(self) -> int:
        """Width of the standardised profile: static columns + acquisition count and spend."""
        return len(self.static_names) + 2

    @classmethod
    def fit(
        cls, static: np.ndarray, static_names: tuple[str, ...], count: np.ndarray,
        spend: np.ndarray, mask: np.ndarray, count_feature: str,
    ) -> FeatureTransform:
        """Fit the constants on training arrays ``static[N,S]``, ``count/spend/mask[N,T]``."""
        static = np.asarray(static, dtype=np.float64)
        logs, means, stds, ints, lows, highs = [], [], [], [], [], []
        for j in range(static.shape[1]):
            col = static[:, j]
            use_log = bool(np.all(col >= 0))
            x = np.log1p(col) if use_log else col
            logs.append(use_log)
            means.append(float(x.mean()))
            stds.append(float(max(x.std(), 1e-3)))
            ints.append(bool(np.all(np.equal(np.round(col), col))))
            lows.append(float(col.min()))
            highs.append(float(col.max()))
        bought = (count > 0) & mask
        if not bought.any():
            raise DataError("the training panel has no purchase at all; the GAN cannot be fitted")
        ls = np.log1p(np.maximum(spend[bought], 0.0).astype(np.float64))
        lc = np.log1p(count[bought].astype(np.float64))
        return cls(
            static_names=tuple(static_names), static_log=tuple(logs),
            static_mean=tuple(means), static_std=tuple(stds), static_integer=tuple(ints),
            static_min=tuple(lows), static_max=tuple(highs),
            spend_mean=float(ls.mean()), spend_std=float(max(ls.std(), 1e-3)),
            count_mean=float(lc.mean()), count_std=float(max(lc.std(), 1e-3)),
            max_count=int(np.clip(np.max(count[bought]), 1, MAX_COUNT_CAP)),
            count_feature=count_feature,
        )

    # --- static profile -------------------------------------------------------------------
    def static_forward(self, static: np.ndarray) -> np.ndarray:
        """Standardise ``static[N,S]`` to float32."""
        x = np.asarray(static, dtype=np.float64).copy()
        for j, use_log in enumerate(self.static_log):
            col = np.log1p(np.maximum(x[:, j], 0.0)) if use_log else x[:, j]
            x[:, j] = (col - self.static_mean[j]) / self.static_std[j]
        return x.astype(np.float32)

    def static_inverse(self, z: np.ndarray) -> np.ndarray:
        """Map standardised static columns back to user units (rounded and clipped)."""
        x = np.asarray(z, dtype=np.float64).copy()
        for j, use_log in enumerate(self.static_log):
            col = x[:, j] * self.static_std[j] + self.static_mean[j]
            col = np.expm1(col) if use_log else col
            if self.static_integer[j]:
                col = np.round(col)
            x[:, j] = np.clip(col, self.static_min[j], self.static_max[j])
        return x.astype(np.float32)

    def profile_forward(self, static: np.ndarray, count0: np.ndarray, spend0: np.ndarray) -> np.ndarray:
        """Standardised profile ``[N, S+2]`` from static columns and the acquisition week."""
        s = self.static_forward(static)
        c = (np.log1p(np.maximum(count0, 1.0)) - self.count_mean) / self.count_std
        m = self.spend_forward(spend0)
        return np.concatenate([s, c[:, None], m[:, None]], axis=1).astype(np.float32)

    def profile_inverse(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Static columns, acquisition count (>= 1, integer) and spend from a profile."""
        z = np.asarray(z, dtype=np.float64)
        s = len(self.static_names)
        static = self.static_inverse(z[:, :s])
        count = np.clip(np.round(np.expm1(z[:, s] * self.count_std + self.count_mean)), 1,
                        self.max_count)
        spend = self.spend_inverse(z[:, s + 1])
        return static, count.astype(np.float32), spend

    def canonical_profile(self, static: np.ndarray, count0: np.ndarray, spend0: np.ndarray) -> np.ndarray:
        """Standardised profile after a round trip through user units (what a sample can be)."""
        st, c, m = self.profile_inverse(self.profile_forward(static, count0, spend0))
        return self.profile_forward(st, c, m)

    # --- weekly features ------------------------------------------------------------------
    def spend_forward(self, spend: np.ndarray) -> np.ndarray:
        """Standardised ``log1p(spend)``."""
        return ((np.log1p(np.maximum(spend, 0.0)) - self.spend_mean) / self.spend_std).astype(np.float32)

    def spend_inverse(self, z: np.ndarray) -> np.ndarray:
        """Dollars from standardised ``log1p(spend)`` (never negative)."""
        return np.maximum(np.expm1(np.asarray(z, np.float64) * self.spend_std + self.spend_mean),
                          0.0).astype(np.float32)

    def week_inputs(self, count: np.ndarray, spend: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Generator inputs ``[..., 4]``: purchased, ``log1p(count)``, standardised spend (0 if
        none), ``log1p(gap)`` with ``gap`` the weeks since the previous event."""
        bought = (count > 0).astype(np.float32)
        return np.stack(
            [bought, np.log1p(np.maximum(count, 0.0)).astype(np.float32),
             bought * self.spend_forward(spend), np.log1p(np.asarray(gap, np.float32))], axis=-1,
        ).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for the checkpoint's JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureTransform:
        """Inverse of :meth:`to_dict`."""
        fields = dict(data)
        for key in ("static_names", "static_log", "static_mean", "static_std", "static_integer",
                    "static_min", "static_max"):
            fields[key] = tuple(fields[key])
        return cls(**fields)
