"""Exploitation guard: is a policy driving the GAN world where its training data never went?

A GAN learns action effects only where the logs show them. A policy optimised inside the GAN
can find action patterns the logs never contained (a 25% coupon every week, five contacts in
a row) and collect rewards the generator invents there. This module measures the support of
the logged decisions and scores a policy's decisions against it:

* **action mix**: each action's share of decisions, against its share in the log (an action
  the log never shows, or shows far less often, is out of support);
* **decision context**: the log's share of decisions with the same action *and* the same
  number of contacts in the previous 4 weeks, ``P(recent contacts, action)``; a decision whose
  cell has probability below ``min_probability`` (or was never observed) is *out of support*.
  The joint, not the conditional ``P(action | recent contacts)``: under a randomised logging
  policy the conditional is the same in every context, so it cannot see that the log almost
  never contacted a customer already contacted in each of the last 4 weeks;
* **histories**: the share of customers whose contact rate over the episode exceeds the
  highest rate that 99% of logged customers had.

The critic of the GAN is not part of the simulator checkpoint, so critic scores are not used.

:meth:`SupportProfile.penalty` turns the context check into a cost in dollars per
out-of-support decision; the sim-to-real pipeline subtracts it from the training reward in
the GAN world (a pessimistic, ResponseModel-like correction) and reports what it changes.

>>> import numpy as np
>>> from gan_simulator.actions import ActionCatalog
>>> cat = ActionCatalog.default()
>>> logged = np.where(np.arange(40) % 10 == 0, 1, 0)[None, :].repeat(20, axis=0)
>>> prof = SupportProfile.from_actions(logged, np.ones_like(logged, bool), cat)
>>> prof.out_of_support(np.array([0.0, 0.0]), np.array([1, 3])).tolist()
[False, True]
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = ["RECENT_WEEKS", "SupportConfig", "SupportProfile", "recent_contacts", "support_report"]

RECENT_WEEKS = 4
"""Look-back of the decision context, as the env's ``contacts_last_4w``."""


@dataclass(frozen=True)
class SupportConfig:
    """Thresholds of the guard and the optional penalty.

    Attributes:
        min_probability: A decision whose (contacts in the previous 4 weeks, action) cell
            holds a smaller share of the logged decisions is out of support. 0.005 flags
            what a log shows less than once in 200 decisions.
        max_share_ratio: An action used more than this many times as often as in the log
            is flagged in the action mix.
        flag_share: A policy is flagged when more than this share of its decisions is out of
            support.
        penalty: Dollars subtracted from the training reward in the GAN world per
            out-of-support decision (``0`` disables the penalty).
    """

    min_probability: float = 0.005
    max_share_ratio: float = 3.0
    flag_share: float = 0.05
    penalty: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_probability < 1.0:
            raise ConfigError(f"support.min_probability={self.min_probability} must lie in [0, 1)")
        if self.max_share_ratio < 1.0:
            raise ConfigError(f"support.max_share_ratio={self.max_share_ratio} must be >= 1")
        if not 0.0 <= self.flag_share <= 1.0:
            raise ConfigError(f"support.flag_share={self.flag_share} must lie in [0, 1]")
        if self.penalty < 0:
            raise ConfigError(f"support.penalty={self.penalty} must be >= 0 dollars")


def recent_contacts(actions: np.ndarray, is_contact: np.ndarray) -> np.ndarray:
    """Contacts in the ``RECENT_WEEKS`` weeks before each week, ``float64[n, T]``.

    Args:
        actions: ``int[n, T]`` action codes; negative codes (weeks not played) count as none.
        is_contact: ``bool[K]`` whether each action code is a contact.
    """
    a = np.asarray(actions)
    contact = np.where(a >= 0, np.asarray(is_contact)[np.clip(a, 0, None)], False).astype(float)
    csum = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(contact, axis=1)], axis=1)
    t = np.arange(a.shape[1])
    lo = np.maximum(t - RECENT_WEEKS, 0)
    return csum[:, t] - csum[:, lo]


@dataclass(frozen=True)
class SupportProfile:
    """What the training log shows about decisions.

    Attributes:
        action_names: Action names by code.
        is_contact: ``bool[K]``.
        action_share: ``float64[K]`` share of logged decisions per action.
        conditional: ``float64[RECENT_WEEKS + 1, K]`` ``P(action | c contacts in the previous
            4 weeks)`` in the log (rows with no logged decision are all zero).
        context_count: ``int64[RECENT_WEEKS + 1]`` logged decisions per context.
        contact_rate_p99: 99th percentile of customers' contact rate (contacts per decision).
        decisions: Logged decisions.
    """

    action_names: tuple[str, ...]
    is_contact: np.ndarray
    action_share: np.ndarray
    conditional: np.ndarray
    context_count: np.ndarray
    contact_rate_p99: float
    decisions: int

    @classmethod
    def from_actions(cls, actions: np.ndarray, decided: np.ndarray,
                     catalog: ActionCatalog) -> SupportProfile:
        """Profile of logged decisions.

        Args:
            actions: ``int[n, T]`` logged action codes, aligned so that week 0 is each
                customer's first decision week (or calendar weeks with ``decided`` masking).
            decided: ``bool[n, T]`` weeks in which the shop made a decision.
            catalog: The action catalogue.
        """
        a = np.asarray(actions, dtype=np.int64)
        d = np.asarray(decided, dtype=bool)
        is_contact = np.array([x.is_contact for x in catalog.actions], dtype=bool)
        k = len(catalog)
        a_masked = np.where(d, a, -1)
        ctx = np.minimum(recent_contacts(a_masked, is_contact), RECENT_WEEKS).astype(np.int64)
        counts = np.zeros((RECENT_WEEKS + 1, k), dtype=np.int64)
        np.add.at(counts, (ctx[d], a[d]), 1)
        per_ctx = counts.sum(axis=1)
        cond = counts / np.maximum(per_ctx[:, None], 1)
        share = counts.sum(axis=0) / max(int(d.sum()), 1)
        contacts = (is_contact[np.clip(a, 0, None)] & d).sum(axis=1)
        n_dec = d.sum(axis=1)
        rates = contacts[n_dec > 0] / n_dec[n_dec > 0]
        p99 = float(np.quantile(rates, 0.99)) if len(rates) else 0.0
        return cls(tuple(catalog.names), is_contact, share, cond, per_ctx, p99, int(d.sum()))

    @classmethod
    def from_panel(cls, panel: Any, catalog: ActionCatalog | None = None) -> SupportProfile:
        """Profile of a :class:`~gan_simulator.data.CustomerPanel`'s logged actions.

        Decisions are the weeks after each customer's acquisition week.
        """
        catalog = catalog or ActionCatalog.default()
        mask = np.asarray(panel.mask, dtype=bool)
        decided = mask & (np.arange(mask.shape[1])[None, :] > np.asarray(panel.first_period)[:, None])
        return cls.from_actions(np.asarray(panel.actions), decided, catalog)

    def probability(self, recent: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The log's ``P(recent contacts, action)`` for each decision (share of all decisions)."""
        ctx = np.clip(np.asarray(recent), 0, RECENT_WEEKS).astype(np.int64)
        context_share = self.context_count / max(self.decisions, 1)
        return self.conditional[ctx, np.asarray(actions, dtype=np.int64)] * context_share[ctx]

    def out_of_support(self, recent: np.ndarray, actions: np.ndarray,
                       min_probability: float = SupportConfig.min_probability) -> np.ndarray:
        """``bool[n]``: the decision's cell is rarer than ``min_probability`` in the log.

        Doing nothing (code 0) is never out of support: it cannot push a customer further
        from the log, and charging it would keep a policy from stopping.
        """
        a = np.asarray(actions, dtype=np.int64)
        return (self.probability(recent, a) < max(min_probability, 1e-12)) & (a != 0)

    def penalty(self, recent: np.ndarray, actions: np.ndarray, config: SupportConfig) -> np.ndarray:
        """Dollars to subtract per decision: ``config.penalty`` where out of support."""
        return np.where(self.out_of_support(recent, actions, config.min_probability),
                        config.penalty, 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view for JSON."""
        return {
            "decisions": self.decisions,
            "action_share": dict(zip(self.action_names, self.action_share.tolist(), strict=True)),
            "conditional_by_recent_contacts": {
                str(c): dict(zip(self.action_names, self.conditional[c].tolist(), strict=True))
                for c in range(RECENT_WEEKS + 1) if self.context_count[c] > 0
            },
            "context_count": self.context_count.tolist(),
            "contact_rate_p99": self.contact_rate_p99,
        }


def support_report(actions: np.ndarray, profile: SupportProfile,
                   config: SupportConfig | None = None) -> dict[str, Any]:
    """How far one policy's decisions leave the log's support.

    Args:
        actions: ``int[n, H]`` the policy's actions per customer and episode week (``-1``
            for weeks not played), e.g. ``RolloutResult.actions`` of an evaluation.
        profile: The training log's :class:`SupportProfile`.
        config: Thresholds.

    Returns:
        ``action_share`` (policy vs log), ``overused_actions``, ``out_of_support_share`` (of
        decisions), ``customers_above_log_contact_p99``, ``flagged`` and the reasons.
    """
    cfg = config or SupportConfig()
    a = np.asarray(actions, dtype=np.int64)
    played = a >= 0
    k = len(profile.action_names)
    recent = recent_contacts(a, profile.is_contact)
    n_dec = max(int(played.sum()), 1)
    share = np.bincount(a[played], minlength=k) / n_dec
    oos = profile.out_of_support(recent[played], a[played], cfg.min_probability)
    oos_share = float(oos.mean()) if oos.size else 0.0
    overused = [
        name for i, name in enumerate(profile.action_names)
        if share[i] > 0 and (profile.action_share[i] == 0
                             or share[i] > cfg.max_share_ratio * profile.action_share[i])
        and i != 0
    ]
    contacts = (profile.is_contact[np.clip(a, 0, None)] & played).sum(axis=1)
    rates = contacts / np.maximum(played.sum(axis=1), 1)
    above = float((rates > profile.contact_rate_p99 + 1e-12).mean()) if len(rates) else 0.0
    reasons = []
    if oos_share > cfg.flag_share:
        reasons.append(f"{oos_share:.1%} of decisions fall in (recent contacts, action) cells "
                       f"holding under {cfg.min_probability:.2%} of the log")
    if overused:
        reasons.append(f"uses {', '.join(overused)} more than {cfg.max_share_ratio:g}x as often "
                       "as the log")
    if above > 0.05:
        reasons.append(f"{above:.1%} of customers are contacted more often than 99% of logged ones")
    return {
        "action_share": {n: float(share[i]) for i, n in enumerate(profile.action_names)},
        "log_action_share": {n: float(profile.action_share[i])
                             for i, n in enumerate(profile.action_names)},
        "overused_actions": overused,
        "out_of_support_share": oos_share,
        "customers_above_log_contact_p99": above,
        "flagged": bool(reasons),
        "reasons": reasons,
    }
