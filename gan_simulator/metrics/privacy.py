"""Privacy: do generated customers copy the customers the GAN was trained on?

A customer's **record** is their calendar-aligned weekly sequence. Two representations:

* ``"counts"``: the weekly count (transactions or purchase days, whichever ``behaviour``
  carries), rounded to integers (``T`` numbers). On CDNOW 68.6% of
  customers share this sequence exactly with another customer (most bought once and never
  again), so exact matches are common *between real customers* and prove nothing by
  themselves;
* ``"counts+spend"`` (the headline): weekly counts and ``log1p`` weekly spend rounded to
  cents (``2T`` numbers) - still many ties among one-time buyers of the same CD.

**Distance to closest record (DCR)**: Euclidean distance from a record to its nearest record
in the training set. It is computed for generated customers (``dcr_generated``) and, as the
reference for what an *independent* real customer looks like, for holdout customers the GAN
never saw (``dcr_holdout``). Ties are handled explicitly:

* ``exact_match_share``: the share of records with an identical training record (DCR = 0),
  for both groups; an excess for generated records (``exact_match_excess``) is the copying
  signal that survives ties;
* ``dcr_ratio = mean(dcr_generated) / mean(dcr_holdout)``: means, not medians, because with
  ties the medians are often both 0. Near 1: generated customers are as far from the training
  set as fresh real customers; well below 1: they sit closer to training customers than new
  real ones do (memorisation);
* ``p_closer``: P(a generated record is closer to the training set than a holdout record),
  ties counting half (0.5 = no difference), plus quantiles of both distributions.

**Membership-inference attack** (distance-based, Hayes et al. 2019; Chen et al. 2020 "GAN-
leaks"): the attacker holds the generated customers and a candidate record and guesses
"member" when the candidate is close to some generated record. Members are training customers,
non-members are holdout customers (equal numbers); ``mia_auc`` is the attack's ROC AUC with
ties counted half. 0.5 = the attacker learns nothing; 1 = every member is recognised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from gan_simulator.metrics.fidelity import SPEND, TRANSACTIONS
from gan_simulator.metrics.tstr import roc_auc

logger = logging.getLogger(__name__)

REPRESENTATIONS: tuple[str, ...] = ("counts", "counts+spend")
"""Record representations :func:`privacy_records` understands."""


def privacy_records(
    behaviour: np.ndarray, mask: np.ndarray, representation: str = "counts+spend"
) -> np.ndarray:
    """Customer records ``float64[n, D]`` for distance computations (unobserved weeks are 0).

    Args:
        behaviour: ``float[n, T, 3]`` (WEEK_FEATURES order), calendar-aligned.
        mask: ``bool[n, T]``.
        representation: One of :data:`REPRESENTATIONS`.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {representation!r}; use one of {REPRESENTATIONS}")
    b = np.asarray(behaviour, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    counts = np.where(m, np.rint(np.maximum(b[..., TRANSACTIONS], 0.0)), 0.0)
    if representation == "counts":
        return counts
    spend = np.where(m, np.round(np.log1p(np.maximum(b[..., SPEND], 0.0)), 2), 0.0)
    return np.concatenate([counts, spend], axis=1)


def nearest_distances(
    queries: np.ndarray, reference: np.ndarray, *, chunk: int = 1024
) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row, ``float64[n]``.

    Exact duplicates get exactly 0 (detected by byte equality, not by floating-point
    arithmetic, so ties are never lost to rounding).
    """
    q = np.ascontiguousarray(queries, dtype=np.float64)
    r = np.ascontiguousarray(reference, dtype=np.float64)
    if len(r) == 0:
        raise ValueError("reference set is empty")
    known = {row.tobytes() for row in r}
    exact = np.fromiter((row.tobytes() in known for row in q), dtype=bool, count=len(q))
    r_sq = (r * r).sum(axis=1)
    out = np.empty(len(q))
    for start in range(0, len(q), chunk):
        block = q[start : start + chunk]
        d2 = (block * block).sum(axis=1)[:, None] + r_sq[None, :] - 2.0 * block @ r.T
        out[start : start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    out[exact] = 0.0
    out[~exact] = np.maximum(out[~exact], np.finfo(float).tiny)  # non-duplicates are never 0
    return out


@dataclass(frozen=True)
class PrivacyResult:
    """DCR comparison and membership-inference attack for one record representation.

    Attributes:
        representation: Which records were compared (see :data:`REPRESENTATIONS`).
        dcr_generated: DCR of each generated record to the training set.
        dcr_holdout: DCR of each holdout record to the training set.
        dcr_ratio: ``mean(dcr_generated) / mean(dcr_holdout)``.
        exact_match_share: ``{"generated", "holdout"}`` shares with DCR = 0.
        p_closer: P(generated DCR < holdout DCR), ties half.
        mia_auc: ROC AUC of the distance-based membership-inference attack.
        n_members: Training customers used as attack members (= non-members).
    """

    representation: str
    dcr_generated: np.ndarray
    dcr_holdout: np.ndarray
    dcr_ratio: float
    exact_match_share: dict[str, float]
    p_closer: float
    mia_auc: float
    n_members: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-record distances)."""
        qs = (0.05, 0.25, 0.5, 0.75)

        def quantiles(v: np.ndarray) -> dict[str, float]:
            return {f"q{int(q * 100):02d}": float(np.quantile(v, q)) for q in qs}

        return {
            "representation": self.representation,
            "dcr_ratio": self.dcr_ratio,
            "mean_dcr": {
                "generated": float(self.dcr_generated.mean()),
                "holdout": float(self.dcr_holdout.mean()),
            },
            "dcr_quantiles": {
                "generated": quantiles(self.dcr_generated),
                "holdout": quantiles(self.dcr_holdout),
            },
            "exact_match_share": self.exact_match_share,
            "exact_match_excess": self.exact_match_share["generated"]
            - self.exact_match_share["holdout"],
            "p_generated_closer": self.p_closer,
            "mia_auc": self.mia_auc,
            "n_members": self.n_members,
            "n_generated": int(len(self.dcr_generated)),
            "n_holdout": int(len(self.dcr_holdout)),
        }


def membership_inference_auc(
    members: np.ndarray, non_members: np.ndarray, generated: np.ndarray
) -> float:
    """AUC of the attack "member if close to a generated record" (score = -DCR to generated).

    Args:
        members: Records of customers the generator was trained on.
        non_members: Records of customers it never saw.
        generated: Generated records the attacker holds.
    """
    return roc_auc(
        -nearest_distances(members, generated), -nearest_distances(non_members, generated)
    )


def privacy_report(
    train: tuple[np.ndarray, np.ndarray],
    holdout: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray],
    *,
    representation: str = "counts+spend",
    seed: int = 0,
    max_records: int | None = None,
) -> PrivacyResult:
    """DCR of generated vs holdout customers against the training set, and the MIA AUC.

    Args:
        train: ``(behaviour, mask)`` of the customers the generator was trained on.
        holdout: ``(behaviour, mask)`` of real customers it never saw.
        generated: ``(behaviour, mask)`` of generated customers.
        representation: Record representation (see :data:`REPRESENTATIONS`).
        seed: Seed of the subsamples (attack members; ``max_records`` caps).
        max_records: Optional cap on generated and holdout records (for quick runs).

    Returns:
        A :class:`PrivacyResult`. The DCR reference is the *whole* training set; the attack
        uses as many members (drawn from ``train``) as there are holdout customers.
    """
    rng = np.random.default_rng(seed)
    train_r = privacy_records(*train, representation)
    hold_r = privacy_records(*holdout, representation)
    gen_r = privacy_records(*generated, representation)
    if max_records is not None:
        hold_r = hold_r[rng.permutation(len(hold_r))[:max_records]]
        gen_r = gen_r[rng.permutation(len(gen_r))[:max_records]]
    dcr_gen = nearest_distances(gen_r, train_r)
    dcr_hold = nearest_distances(hold_r, train_r)
    members = train_r[rng.permutation(len(train_r))[: len(hold_r)]]
    mia = membership_inference_auc(members, hold_r, gen_r)
    mean_hold = float(dcr_hold.mean())
    ratio = float(dcr_gen.mean()) / mean_hold if mean_hold > 0 else float("nan")
    result = PrivacyResult(
        representation=representation,
        dcr_generated=dcr_gen,
        dcr_holdout=dcr_hold,
        dcr_ratio=ratio,
        exact_match_share={
            "generated": float((dcr_gen == 0).mean()),
            "holdout": float((dcr_hold == 0).mean()),
        },
        p_closer=roc_auc(-dcr_gen, -dcr_hold),
        mia_auc=mia,
        n_members=int(len(members)),
    )
    logger.info("privacy (%s): dcr_ratio %.3f, MIA AUC %.3f", representation, ratio, mia)
    return result
