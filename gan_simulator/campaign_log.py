"""Logged campaign histories from the structural ground-truth world.

A shop ran campaigns with a *logging policy* and kept two files: the transaction log (the
canonical schema of :mod:`gan_simulator.data.schema`, with the ``action`` column) and the
campaign log (who got which action in which week, and with what probability). This module
makes such a history from a :class:`~gan_simulator.structural.StructuralSimulator`, so a GAN
can learn action effects from it and its estimates can be checked against the known truth.

* Customers join in a staggered way over the first weeks, with CDNOW's Q1 acquisition shares
  by default, and are observed until the log's last calendar week (as in CDNOW).
* Every week after acquisition the logging policy picks one action per customer. The default
  is *randomised* with known propensities (a small share of each treatment, optionally
  different for lapsing customers), so every action is seen in every kind of history; a
  *rule* (the RFM rule of thumb) with optional epsilon-exploration is the alternative.
  Customers who opted out are never contacted (propensity 1 for ``none``).
* All randomness comes from :mod:`gan_simulator.rng` streams of one root seed: stream
  ``(seed, i, 0)`` drives customer ``i``'s world, ``(seed, i, 1)`` the cohort and the
  logging policy's draws. The same seed gives the same log.

In the transaction log one row is one transaction: the transactions of a purchase week fall
on consecutive days from the week's first day (so ``purchase_days`` equals ``transactions``
up to 7) and share the week's spend equally. A treated week without a purchase is one row
with the action and an empty ``amount``. The structural world has no unit counts, so no
``quantity`` column is written.

>>> from gan_simulator.structural import StructuralSimulator
>>> log = generate_campaign_log(StructuralSimulator(), CampaignLogConfig(customers=50, weeks=20))
>>> panel = log.panel()
>>> bool((panel.actions == log.action_matrix()).all())
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import ConfigError
from gan_simulator.io import atomic_path
from gan_simulator.protocol import CustomerDraw, State, WeekOutcome
from gan_simulator.rng import stream_keys, uniforms

logger = logging.getLogger(__name__)

__all__ = [
    "CDNOW_COHORT_COUNTS",
    "CampaignLog",
    "CampaignLogConfig",
    "CohortSimulator",
    "LoggingPolicy",
    "LoggingPolicyConfig",
    "generate_campaign_log",
]

CDNOW_COHORT_COUNTS: tuple[float, ...] = (
    1574, 1642, 1822, 1924, 2164, 2197, 2024, 2034, 2198, 2165, 2037, 1789,
)
"""Customers acquired in each of CDNOW's first 12 weeks (``build_panel(load_cdnow())``
``first_period`` counts, weeks from 1997-01-01)."""

_DEFAULT_PROBS = {"none": 0.80, "email": 0.06, "discount_10": 0.05, "discount_25": 0.04,
                  "loyalty_perk": 0.05}


@dataclass(frozen=True)
class LoggingPolicyConfig:
    """How the shop chose actions while the log was written.

    Attributes:
        kind: ``"randomised"`` (actions drawn with the known ``probabilities``) or ``"rule"``
            (recency rule below, mixed with ``epsilon`` uniform exploration).
        probabilities: Action name -> weekly probability (randomised; must sum to 1; actions
            not listed get 0). Default: 80% none, 20% spread over the four treatments.
        lapsed_probabilities: Optional second table used for customers whose recency
            (weeks since the last purchase week) is at least ``lapsed_after_weeks``.
        lapsed_after_weeks: Recency from which ``lapsed_probabilities`` (randomised) or
            ``lapse_action`` (rule) applies.
        contact_after_weeks: Rule: send ``contact_action`` from this recency on.
        contact_action: Rule: reminder action.
        lapse_action: Rule: action for customers silent ``lapsed_after_weeks`` or longer.
        epsilon: Rule: probability of replacing the rule's choice by a uniform random action.
    """

    kind: Literal["randomised", "rule"] = "randomised"
    probabilities: dict[str, float] = field(default_factory=lambda: dict(_DEFAULT_PROBS))
    lapsed_probabilities: dict[str, float] | None = None
    lapsed_after_weeks: int = 12
    contact_after_weeks: int = 6
    contact_action: str = "email"
    lapse_action: str = "discount_10"
    epsilon: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in ("randomised", "rule"):
            raise ConfigError(f"logging_policy.kind={self.kind!r}; choose 'randomised' or 'rule'")
        for name, table in (("probabilities", self.probabilities),
                            ("lapsed_probabilities", self.lapsed_probabilities)):
            if table is None:
                continue
            if any(v < 0 for v in table.values()) or abs(sum(table.values()) - 1.0) > 1e-6:
                raise ConfigError(
                    f"logging_policy.{name}={table} must be non-negative and sum to 1; "
                    "e.g. {none: 0.8, email: 0.2}"
                )
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError(f"logging_policy.epsilon={self.epsilon} must lie in [0, 1]")
        if self.lapsed_after_weeks < 1 or self.contact_after_weeks < 1:
            raise ConfigError("logging_policy.*_after_weeks must be >= 1 week")


@dataclass(frozen=True)
class CampaignLogConfig:
    """What history to write.

    Attributes:
        customers: Customers in the log.
        weeks: Calendar weeks the log covers (CDNOW: 78); every customer is observed from
            the acquisition week to the last one.
        seed: Root seed of everything random in the log.
        origin: First day of week 0 (ISO date).
        cohort_weights: Relative number of customers acquired in each of the first weeks
            (default: CDNOW's Q1 cohort, 12 weeks).
        policy: The logging policy.
    """

    customers: int = 5000
    weeks: int = 78
    seed: int = 0
    origin: str = "1997-01-01"
    cohort_weights: tuple[float, ...] = CDNOW_COHORT_COUNTS
    policy: LoggingPolicyConfig = field(default_factory=LoggingPolicyConfig)

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ConfigError(f"campaign_log.customers={self.customers} must be >= 1")
        if not self.cohort_weights or any(w < 0 for w in self.cohort_weights) \
                or sum(self.cohort_weights) <= 0:
            raise ConfigError("campaign_log.cohort_weights must be non-negative with a positive sum")
        if self.weeks < len(self.cohort_weights) + 1:
            raise ConfigError(
                f"campaign_log.weeks={self.weeks} must exceed the {len(self.cohort_weights)} "
                "acquisition weeks so every customer has at least one week after joining"
            )
        try:
            pd.Timestamp(self.origin)
        except ValueError:
            raise ConfigError(f"campaign_log.origin={self.origin!r} is not a date like 1997-01-01") from None


class LoggingPolicy:
    """Action probabilities of the logging policy given what the shop observes.

    Args:
        config: The policy's settings.
        catalog: The action catalogue (names must exist in it).
    """

    def __init__(self, config: LoggingPolicyConfig, catalog: ActionCatalog) -> None:
        self.config = config
        self.catalog = catalog
        self._base = self._table(config.probabilities, "probabilities")
        self._lapsed = (self._table(config.lapsed_probabilities, "lapsed_probabilities")
                        if config.lapsed_probabilities is not None else self._base)
        self._contact = catalog.code(config.contact_action)
        self._lapse = catalog.code(config.lapse_action)

    def _table(self, table: dict[str, float], name: str) -> np.ndarray:
        probs = np.zeros(len(self.catalog))
        for action, p in table.items():
            try:
                probs[self.catalog.code(action)] = p
            except ConfigError:
                raise ConfigError(
                    f"logging_policy.{name} names action {action!r}, which is not in the "
                    f"catalogue {list(self.catalog.names)}"
                ) from None
        return probs

    def probabilities(self, recency: np.ndarray, opted_out: np.ndarray) -> np.ndarray:
        """``float64[n, K]`` probability of each action for each customer this week.

        Args:
            recency: Weeks since each customer's last purchase week (0 = last week).
            opted_out: Customers who opted out (they get ``none`` with probability 1).
        """
        cfg = self.config
        lapsed = np.asarray(recency) >= cfg.lapsed_after_weeks
        k = len(self.catalog)
        if cfg.kind == "randomised":
            probs = np.where(lapsed[:, None], self._lapsed[None, :], self._base[None, :])
        else:
            choice = np.where(lapsed, self._lapse,
                              np.where(np.asarray(recency) >= cfg.contact_after_weeks,
                                       self._contact, 0))
            probs = np.full((len(lapsed), k), cfg.epsilon / k)
            probs[np.arange(len(lapsed)), choice] += 1.0 - cfg.epsilon
        probs = np.where(np.asarray(opted_out)[:, None], np.eye(k)[0][None, :], probs)
        return probs

    def choose(self, probs: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Inverse-CDF draw of one action per row of ``probs`` from uniforms ``u[n]``."""
        cdf = np.cumsum(probs, axis=1)
        cdf[:, -1] = 1.0
        return np.minimum((u[:, None] > cdf).sum(axis=1), len(self.catalog) - 1).astype(np.int64)


@dataclass
class CampaignLog:
    """A generated history and the hidden truth behind it.

    Attributes:
        transactions: Canonical transaction frame (customer_id, timestamp, amount, action).
        campaign: One row per customer-week after acquisition: customer_id, week (calendar
            week index), action, propensity (probability the logging policy gave it).
        cohort: ``int64[n]`` acquisition week of each customer (row order of ``customer_ids``).
        customer_ids: ``str[n]`` identifiers (sorted like a panel's).
        final_state: The simulator state of every customer after the last logged week.
        weeks: Calendar weeks covered.
        origin: First day of week 0.
        catalog: The action catalogue.
        simulator_fingerprint: Fingerprint of the simulator that wrote the log.
    """

    transactions: pd.DataFrame
    campaign: pd.DataFrame
    cohort: np.ndarray
    customer_ids: np.ndarray
    final_state: State
    weeks: int
    origin: pd.Timestamp
    catalog: ActionCatalog
    simulator_fingerprint: str = ""

    def panel(self) -> Any:
        """The weekly :class:`~gan_simulator.data.CustomerPanel` of the transaction log."""
        from gan_simulator.data import build_panel

        end = self.origin + pd.Timedelta(days=7 * self.weeks - 1)
        return build_panel(self.transactions, freq="W", origin=self.origin, end=end,
                           catalog=self.catalog)

    def action_matrix(self) -> np.ndarray:
        """``int16[n, weeks]`` logged action codes (rows in ``customer_ids`` order)."""
        out = np.zeros((len(self.customer_ids), self.weeks), dtype=np.int16)
        rows = pd.Index(self.customer_ids).get_indexer(self.campaign["customer_id"])
        out[rows, self.campaign["week"].to_numpy()] = self.catalog.codes(self.campaign["action"])
        return out

    def write(self, directory: str | Path, fmt: Literal["csv", "parquet"] = "csv") -> dict[str, Path]:
        """Write ``transactions.<fmt>`` and ``campaign_log.<fmt>`` atomically.

        Returns:
            ``{"transactions": path, "campaign": path}``.
        """
        if fmt not in ("csv", "parquet"):
            raise ConfigError(f"campaign log format {fmt!r}; choose 'csv' or 'parquet'")
        folder = Path(directory)
        paths = {"transactions": folder / f"transactions.{fmt}",
                 "campaign": folder / f"campaign_log.{fmt}"}
        frames = {"transactions": self.transactions, "campaign": self.campaign}
        for key, path in paths.items():
            with atomic_path(path) as tmp:
                if fmt == "csv":
                    frames[key].to_csv(tmp, index=False, date_format="%Y-%m-%d")
                else:
                    frames[key].to_parquet(tmp, index=False)
        return paths


def _rows_subset(state: State, rows: np.ndarray) -> State:
    return {k: v[rows] for k, v in state.items()}


def generate_campaign_log(simulator: Any, config: CampaignLogConfig | None = None) -> CampaignLog:
    """Run ``simulator`` under the logging policy and collect the history.

    Args:
        simulator: A :class:`~gan_simulator.protocol.Simulator` (normally the structural one).
        config: Size, seed, cohorts and logging policy.

    Returns:
        The :class:`CampaignLog` (frames in memory; call :meth:`CampaignLog.write`).
    """
    cfg = config or CampaignLogConfig()
    n, weeks = cfg.customers, cfg.weeks
    catalog = simulator.catalog
    policy = LoggingPolicy(cfg.policy, catalog)
    ids = np.arange(n)
    world = stream_keys(cfg.seed, ids, np.zeros(n, dtype=np.int64))
    shop = stream_keys(cfg.seed, ids, np.ones(n, dtype=np.int64))
    weights = np.asarray(cfg.cohort_weights, dtype=np.float64)
    cohort = _cohorts(uniforms(shop, 0, 1)[:, 0], weights)
    last_week = weeks - 1 - cohort  # last local week of each customer

    draw: CustomerDraw = simulator.draw_customers(uniforms(world, 0, simulator.customer_noise_dim))
    state = draw.state
    local_rows: list[np.ndarray] = [ids]
    local_feats: list[np.ndarray] = [draw.history[:, -1]]
    local_week: list[np.ndarray] = [np.zeros(n, dtype=np.int64)]
    camp: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    last_buy = np.zeros(n, dtype=np.int64)
    opted = np.zeros(n, dtype=bool)
    for t in range(1, int(last_week.max()) + 1):
        rows = np.flatnonzero(last_week >= t)
        probs = policy.probabilities(t - 1 - last_buy[rows], opted[rows])
        actions = policy.choose(probs, uniforms(shop[rows], t, 1)[:, 0])
        sub = _rows_subset(state, rows)
        sub, out = simulator.step(sub, actions, uniforms(world[rows], t, simulator.step_noise_dim))
        for key, value in sub.items():
            state[key][rows] = value
        out = _as_week(out)
        camp.append((rows, np.full(len(rows), t), actions, probs[np.arange(len(rows)), actions]))
        local_rows.append(rows)
        local_feats.append(out.as_features())
        local_week.append(np.full(len(rows), t))
        last_buy[rows[out.purchased]] = t
        opted[rows] = out.opted_out
    cust = np.concatenate(local_rows)
    feats = np.concatenate(local_feats)
    week = np.concatenate(local_week) + cohort[cust]
    act = np.zeros(len(cust), dtype=np.int64)
    offset = n
    for rows_t, _, actions_t, _ in camp:
        act[offset:offset + len(rows_t)] = actions_t
        offset += len(rows_t)

    names = np.array([f"c{i:06d}" for i in range(n)])
    origin = pd.Timestamp(cfg.origin).normalize()
    transactions = _transactions(names[cust], week, feats, act, catalog, origin)
    c_rows = np.concatenate([c[0] for c in camp]) if camp else np.zeros(0, np.int64)
    campaign = pd.DataFrame({
        "customer_id": names[c_rows],
        "week": (np.concatenate([c[1] for c in camp]) + cohort[c_rows]) if camp else c_rows,
        "action": np.asarray(catalog.names)[np.concatenate([c[2] for c in camp])] if camp else [],
        "propensity": np.concatenate([c[3] for c in camp]) if camp else np.zeros(0),
    }).sort_values(["customer_id", "week"], kind="stable").reset_index(drop=True)
    logger.info("campaign log: %d customers, %d weeks, %d transaction rows, %d treatments",
                n, weeks, len(transactions), int((campaign["action"] != "none").sum()))
    return CampaignLog(transactions, campaign, cohort, names, state, weeks, origin, catalog,
                       str(getattr(simulator, "fingerprint", "")))


def _as_week(out: WeekOutcome) -> WeekOutcome:
    return WeekOutcome(np.asarray(out.purchased, bool), np.asarray(out.transactions, np.float32),
                       np.asarray(out.spend, np.float32), np.asarray(out.opted_out, bool))


def _cohorts(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights) / weights.sum()
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1).astype(np.int64)


def _transactions(cust: np.ndarray, week: np.ndarray, feats: np.ndarray, act: np.ndarray,
                  catalog: ActionCatalog, origin: pd.Timestamp) -> pd.DataFrame:
    """Canonical rows: one per transaction, plus one per treated week without a purchase."""
    bought = feats[:, 0] > 0
    count = np.where(bought, np.maximum(np.round(feats[:, 1]), 1), 0).astype(np.int64)
    treated_only = ~bought & (act > 0)
    reps = np.where(treated_only, 1, count)
    idx = np.repeat(np.arange(len(cust)), reps)
    within = np.arange(len(idx)) - np.repeat(np.cumsum(reps) - reps, reps)
    day = 7 * week[idx] + np.minimum(within, 6)
    amount = np.where(bought[idx], feats[idx, 2] / np.maximum(count[idx], 1), np.nan)
    frame = pd.DataFrame({
        "customer_id": cust[idx],
        "timestamp": (np.datetime64(origin.date(), "D") + day.astype("timedelta64[D]"))
        .astype("datetime64[ns]"),
        "amount": np.round(amount.astype(np.float64), 2),
        "action": np.asarray(catalog.names)[act[idx]],
    })
    return frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


class CohortSimulator:
    """A simulator whose drawn customers carry a staggered ``cohort_period`` like the log's.

    The structural world draws every customer with ``cohort_period = 0``; a GAN trained on a
    staggered log generates ``0..11``. Wrapping the truth with the log's cohort shares makes
    the two worlds' observations comparable without changing any dynamics (the structural
    world has no calendar). All other attributes and methods are the wrapped simulator's.

    Args:
        simulator: The wrapped simulator.
        cohort_weights: Relative acquisition counts per week (as in :class:`CampaignLogConfig`).
    """

    def __init__(self, simulator: Any, cohort_weights: tuple[float, ...] = CDNOW_COHORT_COUNTS):
        self.inner = simulator
        self.weights = np.asarray(cohort_weights, dtype=np.float64)
        self.customer_noise_dim = simulator.customer_noise_dim + 1
        self._col = list(simulator.static_names).index("cohort_period")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def draw_customers(self, u: np.ndarray) -> CustomerDraw:
        """The wrapped draw with ``cohort_period`` taken from the last uniform column."""
        u = np.asarray(u, dtype=np.float64)
        draw = self.inner.draw_customers(u[:, :-1])
        static = np.array(draw.static, copy=True)
        static[:, self._col] = _cohorts(u[:, -1], self.weights)
        return CustomerDraw(draw.state, static, draw.history, draw.history_mask, draw.customer_ids)
