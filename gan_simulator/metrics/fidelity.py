"""Distributional fidelity: do generated customers look like real ones, customer by customer?

Every function works on plain arrays in the simulator's week layout, so it needs no GAN:

* ``behaviour``: ``float[n, T, 3]`` with features in :data:`gan_simulator.protocol.WEEK_FEATURES`
  order (``purchased``, ``transactions``, ``spend``), calendar-aligned weeks;
* ``mask``: ``bool[n, T]``, ``True`` from the customer's first-purchase week on.

Definitions (the same for real and generated customers):

* **repeat purchases** of a customer: the number of weeks with a purchase after the
  first-purchase week (``sum(purchased over mask) - 1``, at least 0), capped into a ``cap+``
  bucket (default ``7+``);
* **spend per transaction**: ``spend / transactions`` in every week with a purchase;
* **inter-purchase weeks**: gaps between consecutive purchase weeks of one customer;
* **weekly purchase rate**: the share of *all* customers with a purchase in each calendar week;
* **autocorrelation** of the weekly purchase indicator at lag ``k``: the pooled (over customers)
  Pearson correlation of ``(x_t, x_{t+k})`` over the pairs of weeks where both are observed.

Distances: total variation ``0.5 * sum |p - q|`` for the discrete repeat-purchase distribution
(0 = identical, 1 = disjoint); Wasserstein-1 (earth mover's, in the variable's own unit) and the
Kolmogorov-Smirnov statistic for the continuous ones; mean absolute difference for the weekly
series and the autocorrelation curve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

logger = logging.getLogger(__name__)

PURCHASED, TRANSACTIONS, SPEND = 0, 1, 2
"""Indices of :data:`gan_simulator.protocol.WEEK_FEATURES` in ``behaviour``'s last axis."""


def purchase_indicator(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``bool[n, T]``: a purchase in an observed week (``purchased > 0.5`` and ``mask``)."""
    return (np.asarray(behaviour)[..., PURCHASED] > 0.5) & np.asarray(mask, dtype=bool)


def repeat_purchase_counts(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Repeat purchase weeks per customer, ``int64[n]`` (purchase weeks minus the first, >= 0)."""
    weeks = purchase_indicator(behaviour, mask).sum(axis=1)
    return np.maximum(weeks - 1, 0).astype(np.int64)


def count_distribution(counts: np.ndarray, cap: int = 7) -> np.ndarray:
    """Shares of customers with ``0, 1, ..., cap-1`` and ``cap`` or more, ``float64[cap + 1]``.

    >>> count_distribution(np.array([0, 0, 1, 9]), cap=2).tolist()
    [0.5, 0.25, 0.25]
    """
    counts = np.asarray(counts)
    if counts.size == 0:
        return np.zeros(cap + 1)
    binned = np.bincount(np.minimum(counts, cap).astype(np.int64), minlength=cap + 1)
    return binned / counts.size


def spend_per_transaction(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Spend divided by transactions in every purchase week, ``float64[k]`` (flattened)."""
    bought = purchase_indicator(behaviour, mask)
    behaviour = np.asarray(behaviour, dtype=np.float64)
    spend = behaviour[..., SPEND][bought]
    transactions = np.maximum(behaviour[..., TRANSACTIONS][bought], 1.0)
    return spend / transactions


def inter_purchase_weeks(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Weeks between consecutive purchase weeks of the same customer, ``int64[k]``.

    >>> b = np.zeros((1, 6, 3)); b[0, [0, 1, 4], 0] = 1
    >>> inter_purchase_weeks(b, np.ones((1, 6), bool)).tolist()
    [1, 3]
    """
    bought = purchase_indicator(behaviour, mask)
    rows, weeks = np.nonzero(bought)  # row-major: sorted by customer, then week
    same_customer = rows[1:] == rows[:-1]
    return (weeks[1:] - weeks[:-1])[same_customer].astype(np.int64)


def weekly_purchase_rate(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Share of all ``n`` customers who purchase in each week, ``float64[T]``."""
    bought = purchase_indicator(behaviour, mask)
    return bought.mean(axis=0) if bought.shape[0] else np.zeros(bought.shape[1])


def purchase_autocorrelation(
    purchased: np.ndarray, mask: np.ndarray, max_lag: int = 8
) -> np.ndarray:
    """Pooled autocorrelation of a weekly 0/1 indicator at lags ``1..max_lag``, ``float64[max_lag]``.

    For each lag ``k`` the pairs ``(x[i, t], x[i, t + k])`` with both weeks observed are pooled
    over customers and their Pearson correlation is returned (NaN where a lag has no pairs or
    no variation).

    Args:
        purchased: ``[n, T]`` indicator (any numeric or bool array).
        mask: ``bool[n, T]`` observed weeks.
        max_lag: Largest lag.

    >>> x = np.tile([0.0, 1.0], 20)[None, :]
    >>> np.round(purchase_autocorrelation(x, np.ones_like(x, bool), 2), 6).tolist()
    [-1.0, 1.0]
    """
    x = np.asarray(purchased, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    out = np.full(max_lag, np.nan)
    for k in range(1, max_lag + 1):
        if k >= x.shape[1]:
            break
        both = m[:, :-k] & m[:, k:]
        a, b = x[:, :-k][both], x[:, k:][both]
        if a.size < 2 or a.std() == 0 or b.std() == 0:
            continue
        out[k - 1] = float(np.corrcoef(a, b)[0, 1])
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance ``0.5 * sum |p - q|`` between two discrete distributions."""
    return float(0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


def continuous_distances(real: np.ndarray, synthetic: np.ndarray) -> dict[str, float]:
    """Wasserstein-1 and Kolmogorov-Smirnov distance between two samples (NaN if one is empty)."""
    real, synthetic = np.asarray(real, float), np.asarray(synthetic, float)
    if real.size == 0 or synthetic.size == 0:
        return {"wasserstein": float("nan"), "ks": float("nan")}
    return {
        "wasserstein": float(stats.wasserstein_distance(real, synthetic)),
        "ks": float(stats.ks_2samp(real, synthetic).statistic),
    }


def _summary(values: np.ndarray) -> dict[str, float]:
    values = np.asarray(values, float)
    if values.size == 0:
        return {"n": 0, "mean": float("nan"), "median": float("nan"), "p90": float("nan")}
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "p90": float(np.quantile(values, 0.9)),
    }


@dataclass(frozen=True)
class FidelityResult:
    """Real-versus-generated comparison of the customer-level distributions.

    Attributes:
        repeat_real: Shares of repeat purchases ``0..cap-1, cap+`` among real customers.
        repeat_synthetic: The same for generated customers.
        repeat_tv: Total variation between the two.
        spend_real: Real spend-per-transaction values (for plots).
        spend_synthetic: Generated spend-per-transaction values.
        spend_distance: ``{"wasserstein", "ks"}`` for spend per transaction (dollars).
        gaps_real: Real inter-purchase weeks.
        gaps_synthetic: Generated inter-purchase weeks.
        gaps_distance: ``{"wasserstein", "ks"}`` for inter-purchase weeks.
        weekly_real: Weekly purchase rate of real customers, ``[T]``.
        weekly_synthetic: Weekly purchase rate of generated customers, ``[T]``.
        weekly_mae: Mean absolute difference of the two weekly rates.
        acf_real: Autocorrelation of the real purchase indicator at lags ``1..max_lag``.
        acf_synthetic: The same for generated customers.
        acf_mae: Mean absolute difference of the two curves (NaN lags ignored).
    """

    repeat_real: np.ndarray
    repeat_synthetic: np.ndarray
    repeat_tv: float
    spend_real: np.ndarray
    spend_synthetic: np.ndarray
    spend_distance: dict[str, float]
    gaps_real: np.ndarray
    gaps_synthetic: np.ndarray
    gaps_distance: dict[str, float]
    weekly_real: np.ndarray
    weekly_synthetic: np.ndarray
    weekly_mae: float
    acf_real: np.ndarray
    acf_synthetic: np.ndarray
    acf_mae: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (distributions, summaries and distances; no raw samples)."""
        return {
            "repeat_purchases": {
                "buckets": [str(i) for i in range(len(self.repeat_real) - 1)]
                + [f"{len(self.repeat_real) - 1}+"],
                "real": self.repeat_real.tolist(),
                "synthetic": self.repeat_synthetic.tolist(),
                "total_variation": self.repeat_tv,
            },
            "spend_per_transaction": {
                "real": _summary(self.spend_real),
                "synthetic": _summary(self.spend_synthetic),
                **self.spend_distance,
            },
            "inter_purchase_weeks": {
                "real": _summary(self.gaps_real),
                "synthetic": _summary(self.gaps_synthetic),
                **self.gaps_distance,
            },
            "weekly_purchase_rate": {
                "real": self.weekly_real.tolist(),
                "synthetic": self.weekly_synthetic.tolist(),
                "mean_abs_diff": self.weekly_mae,
            },
            "autocorrelation": {
                "lags": list(range(1, len(self.acf_real) + 1)),
                "real": [None if np.isnan(v) else float(v) for v in self.acf_real],
                "synthetic": [None if np.isnan(v) else float(v) for v in self.acf_synthetic],
                "mean_abs_diff": self.acf_mae,
            },
        }


def compare_fidelity(
    real_behaviour: np.ndarray,
    real_mask: np.ndarray,
    synthetic_behaviour: np.ndarray,
    synthetic_mask: np.ndarray,
    *,
    cap: int = 7,
    max_lag: int = 8,
) -> FidelityResult:
    """Compare real and generated customers on every distribution this module defines.

    Args:
        real_behaviour: ``float[n_r, T, 3]`` real weeks (WEEK_FEATURES order).
        real_mask: ``bool[n_r, T]``.
        synthetic_behaviour: ``float[n_s, T', 3]`` generated weeks.
        synthetic_mask: ``bool[n_s, T']``.
        cap: Last repeat-purchase bucket (``cap+``).
        max_lag: Largest autocorrelation lag.

    Returns:
        A :class:`FidelityResult`. The weekly series are compared over the common weeks.
    """
    rep_r = count_distribution(repeat_purchase_counts(real_behaviour, real_mask), cap)
    rep_s = count_distribution(repeat_purchase_counts(synthetic_behaviour, synthetic_mask), cap)
    spend_r = spend_per_transaction(real_behaviour, real_mask)
    spend_s = spend_per_transaction(synthetic_behaviour, synthetic_mask)
    gaps_r = inter_purchase_weeks(real_behaviour, real_mask)
    gaps_s = inter_purchase_weeks(synthetic_behaviour, synthetic_mask)
    week_r = weekly_purchase_rate(real_behaviour, real_mask)
    week_s = weekly_purchase_rate(synthetic_behaviour, synthetic_mask)
    common = min(len(week_r), len(week_s))
    acf_r = purchase_autocorrelation(
        purchase_indicator(real_behaviour, real_mask), real_mask, max_lag
    )
    acf_s = purchase_autocorrelation(
        purchase_indicator(synthetic_behaviour, synthetic_mask), synthetic_mask, max_lag
    )
    both = ~(np.isnan(acf_r) | np.isnan(acf_s))
    acf_mae = float(np.abs(acf_r - acf_s)[both].mean()) if both.any() else float("nan")
    return FidelityResult(
        repeat_real=rep_r,
        repeat_synthetic=rep_s,
        repeat_tv=total_variation(rep_r, rep_s),
        spend_real=spend_r,
        spend_synthetic=spend_s,
        spend_distance=continuous_distances(spend_r, spend_s),
        gaps_real=gaps_r,
        gaps_synthetic=gaps_s,
        gaps_distance=continuous_distances(gaps_r, gaps_s),
        weekly_real=week_r,
        weekly_synthetic=week_s,
        weekly_mae=float(np.abs(week_r[:common] - week_s[:common]).mean())
        if common
        else float("nan"),
        acf_real=acf_r,
        acf_synthetic=acf_s,
        acf_mae=acf_mae,
    )
