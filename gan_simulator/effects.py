"""What a simulator believes each action does, next to the ground truth.

The effect of action ``a`` on customer ``i`` is the one-week *purchase-probability uplift*
``P(buy | a) - P(buy | none)`` in the customer's current state, from the simulator's
:meth:`~gan_simulator.protocol.Simulator.expected_week` (the state is not advanced). For a
GAN the state is the encoding of each customer's logged history (past actions included); for
the structural world that wrote the log it is the true latent state after the last logged
week. Both are evaluated on the *same* customers, so the comparison is paired.

Averages come with standard errors over customers, and are broken down by segments a shop
can observe in the log: recency (last purchase week at most 8 weeks before the end:
``recent``, else ``lapsing``) crossed with frequency (``repeat`` buyers with two or more
purchase weeks, else ``one-time``). The customer-level correlation between estimated and
true uplifts says whether the simulator also knows *who* responds.

>>> from gan_simulator.campaign_log import CampaignLogConfig, generate_campaign_log
>>> from gan_simulator.structural import StructuralSimulator
>>> truth = StructuralSimulator()
>>> log = generate_campaign_log(truth, CampaignLogConfig(customers=200, weeks=20))
>>> table = effects_from_log(truth, log, truth)
>>> table["actions"]["email"]["truth"]["mean"] == table["actions"]["email"]["estimate"]["mean"]
True
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import State

logger = logging.getLogger(__name__)

__all__ = ["SEGMENTS", "effects_from_log", "log_segments", "purchase_uplift", "compare_effects"]

SEGMENTS: tuple[str, ...] = ("recent-repeat", "recent-one-time", "lapsing-repeat",
                             "lapsing-one-time")
"""Observable segments at the end of a log (see the module docstring)."""

RECENT_WEEKS = 8
"""A customer whose last purchase week is at most this many weeks before the end is recent."""


def purchase_uplift(simulator: Any, state: State) -> tuple[np.ndarray, np.ndarray]:
    """Purchase probability under ``none`` and the uplift of every action.

    Args:
        simulator: Any simulator with ``catalog`` and ``expected_week``.
        state: State of ``n`` customers.

    Returns:
        ``(p_none float64[n], uplift float64[n, K])`` with column 0 of ``uplift`` zero.
    """
    if not hasattr(simulator, "expected_week"):
        raise EnvArgumentError(
            f"{type(simulator).__name__} has no expected_week(); effects need a simulator "
            "implementing gan_simulator.protocol.Simulator"
        )
    n = _rows(state)
    k = len(simulator.catalog)
    probs = np.empty((n, k))
    for code in range(k):
        p, _ = simulator.expected_week(state, np.full(n, code, dtype=np.int64))
        probs[:, code] = np.asarray(p, dtype=np.float64)
    return probs[:, 0], probs - probs[:, :1]


def _rows(state: State) -> int:
    for value in state.values():
        return int(value.shape[0])
    raise EnvArgumentError("the simulator state is empty")


def log_segments(panel: Any) -> np.ndarray:
    """Segment index (into :data:`SEGMENTS`) of each panel customer at the panel's end."""
    bought = np.asarray(panel.feature("purchased")) > 0
    t = bought.shape[1]
    last = t - 1 - np.argmax(bought[:, ::-1], axis=1)
    recency = t - 1 - last
    repeat = bought.sum(axis=1) >= 2
    return (2 * (recency > RECENT_WEEKS) + (~repeat)).astype(np.int64)


def _mean_se(x: np.ndarray) -> dict[str, float]:
    n = len(x)
    if n == 0:
        return {"mean": float("nan"), "se": float("nan"), "n": 0}
    se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return {"mean": float(x.mean()), "se": se, "n": int(n)}


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def compare_effects(estimate: tuple[Any, State], truth: tuple[Any, State],
                    segments: np.ndarray | None = None) -> dict[str, Any]:
    """Per-action uplift of a simulator next to the truth's, on the same customers.

    Args:
        estimate: ``(simulator, state)`` whose beliefs are judged.
        truth: ``(simulator, state)`` of the ground truth for the same customers, same order.
        segments: Optional ``int[n]`` index into :data:`SEGMENTS`.

    Returns:
        ``{"customers", "p_none": {estimate, truth}, "actions": {name: {estimate, truth,
        ratio, customer_correlation, segments: {segment: {estimate, truth}}}}}`` where
        ``estimate``/``truth`` are ``{mean, se, n}`` of the uplift in probability points and
        ``ratio`` is estimate mean / truth mean.
    """
    est_sim, est_state = estimate
    true_sim, true_state = truth
    if tuple(est_sim.catalog.names) != tuple(true_sim.catalog.names):
        raise EnvArgumentError(
            f"the two simulators have different actions ({est_sim.catalog.names} vs "
            f"{true_sim.catalog.names}); compare simulators with the same catalogue"
        )
    p0_e, up_e = purchase_uplift(est_sim, est_state)
    p0_t, up_t = purchase_uplift(true_sim, true_state)
    if len(p0_e) != len(p0_t):
        raise EnvArgumentError(
            f"estimate has {len(p0_e)} customers but the truth {len(p0_t)}; pass the same customers"
        )
    out: dict[str, Any] = {
        "customers": len(p0_e),
        "p_none": {"estimate": _mean_se(p0_e), "truth": _mean_se(p0_t)},
        "actions": {},
    }
    for code, name in enumerate(est_sim.catalog.names):
        if code == 0:
            continue
        e, t = up_e[:, code], up_t[:, code]
        row: dict[str, Any] = {"estimate": _mean_se(e), "truth": _mean_se(t)}
        row["ratio"] = float(e.mean() / t.mean()) if t.mean() != 0 else None
        row["customer_correlation"] = _corr(e, t)
        if segments is not None:
            row["segments"] = {
                seg: {"estimate": _mean_se(e[segments == s]), "truth": _mean_se(t[segments == s])}
                for s, seg in enumerate(SEGMENTS) if (segments == s).any()
            }
        out["actions"][name] = row
    return out


def effects_from_log(simulator: Any, log: Any, truth: Any) -> dict[str, Any]:
    """Effects a simulator assigns to the customers of a campaign log, next to the truth.

    Args:
        simulator: The simulator judged. If it can ``encode`` histories (the GAN), each
            customer's logged history is encoded; otherwise it must be the simulator that
            wrote the log (same fingerprint), whose final state is used.
        log: A :class:`~gan_simulator.campaign_log.CampaignLog`.
        truth: The structural simulator that wrote the log.

    Returns:
        See :func:`compare_effects`; the customers are all customers of the log, evaluated
        for the week after the log ends.
    """
    panel = log.panel()
    if not np.array_equal(np.asarray(panel.customer_ids), np.asarray(log.customer_ids)):
        raise EnvArgumentError("the log's panel lost customers; rebuild the log")
    if getattr(log, "simulator_fingerprint", "") not in ("", truth.fingerprint):
        raise EnvArgumentError("the truth simulator is not the one that wrote the log")
    if hasattr(simulator, "encode"):
        from gan_simulator.simulator import panel_behaviour

        behaviour = panel_behaviour(panel, simulator.transform.count_feature)
        state = simulator.encode(behaviour, panel.mask, panel.static, panel.actions)
    elif simulator.fingerprint == truth.fingerprint:
        state = log.final_state
    else:
        raise EnvArgumentError(
            f"{type(simulator).__name__} cannot encode logged histories and is not the "
            "simulator that wrote the log; pass a GANSimulator or the log's own simulator"
        )
    return compare_effects((simulator, state), (truth, log.final_state), log_segments(panel))
