"""Train on synthetic, test on real (TSTR): is the generated data useful for a real task?

The task is next-week purchase: from a customer's weeks up to ``t`` predict whether they buy in
week ``t + 1``. The model is an L2-regularised logistic regression over hand-made features of
the last weeks (see :func:`next_week_examples`), fitted by L-BFGS, so it has no random state.
The same model is fitted once on generated customers (TSTR) and once on an equally large set
of real customers (TRTR); both are scored on the same real test customers. The headline
``ratio`` is ``AUC_TSTR / AUC_TRTR`` (Esteban et al. 2017; Yoon et al. 2019): 1 means the
synthetic data teach the task as well as real data do.

Purchases are rare (about 3.5% of CDNOW customer-weeks), so accuracy at a 0.5 threshold says
little. Each model therefore picks its decision threshold on its *own training data* (the one
maximising F1 there) and accuracy, recall, precision and F1 are reported at that threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from gan_simulator.metrics.fidelity import SPEND, purchase_indicator

logger = logging.getLogger(__name__)

FEATURE_NAMES_SUMMARY: tuple[str, ...] = (
    "log1p_recency_weeks",
    "log1p_purchase_weeks",
    "log1p_tenure_weeks",
    "log1p_spend_last_purchase",
    "mean_log1p_spend",
)
"""Summary features after the ``window`` last-week purchase indicators."""


def roc_auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties count half.

    >>> roc_auc(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    0.5
    >>> roc_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    1.0
    """
    pos, neg = np.asarray(positive_scores, float), np.asarray(negative_scores, float)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    ranks = stats.rankdata(np.concatenate([pos, neg]))  # average ranks handle ties
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2
    return float(u / (pos.size * neg.size))


def next_week_examples(
    behaviour: np.ndarray, mask: np.ndarray, window: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Build (features, label) for every observed customer-week ``t`` with a week ``t + 1``.

    Features: the purchase indicator of weeks ``t - window + 1 .. t`` (0 before the customer's
    first week), then :data:`FEATURE_NAMES_SUMMARY` computed from weeks ``<= t``. Label: a
    purchase in week ``t + 1``.

    Args:
        behaviour: ``float[n, T, 3]`` (WEEK_FEATURES order).
        mask: ``bool[n, T]``.
        window: Number of most recent weeks given individually.

    Returns:
        ``X float64[k, window + 5]`` and ``y bool[k]``.
    """
    bought = purchase_indicator(behaviour, mask).astype(np.float64)
    m = np.asarray(mask, dtype=bool)
    n, t_len = bought.shape
    log_spend = np.log1p(np.maximum(np.asarray(behaviour, float)[..., SPEND], 0.0)) * bought
    weeks = np.arange(t_len)
    count = np.cumsum(bought, axis=1)
    spend_sum = np.cumsum(log_spend, axis=1)
    last_week = np.maximum.accumulate(np.where(bought > 0, weeks, -1), axis=1)
    first_week = np.argmax(m, axis=1)[:, None]
    recency = np.where(last_week >= 0, weeks - last_week, weeks - first_week + 1)
    idx_last = np.maximum(last_week, 0)
    last_spend = np.take_along_axis(log_spend, idx_last, axis=1) * (last_week >= 0)
    padded = np.concatenate([np.zeros((n, window - 1)), bought], axis=1)
    lags = np.stack([padded[:, w : w + t_len] for w in range(window)], axis=-1)
    summary = np.stack(
        [
            np.log1p(np.maximum(recency, 0)),
            np.log1p(count),
            np.log1p(np.maximum(weeks - first_week, 0)),
            last_spend,
            spend_sum / np.maximum(count, 1.0),
        ],
        axis=-1,
    )
    features = np.concatenate([lags, summary], axis=-1)
    usable = m[:, :-1]  # week t observed; t + 1 exists (and is observed once t is)
    return features[:, :-1][usable], bought[:, 1:][usable] > 0


@dataclass(frozen=True)
class LogisticModel:
    """A fitted logistic regression with its input standardisation and decision threshold."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    std: np.ndarray
    threshold: float

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Purchase probability for each row of ``x``."""
        return special.expit(((x - self.mean) / self.std) @ self.weights + self.bias)


def _best_f1_threshold(prob: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(-prob, kind="stable")
    p, t = prob[order], y[order].astype(float)
    tp = np.cumsum(t)
    k = np.arange(1, len(p) + 1)
    f1 = 2 * tp / (k + t.sum()) if t.sum() else np.zeros(len(p))
    last_of_tie = np.r_[p[1:] != p[:-1], True]  # a threshold can only split between values
    f1 = np.where(last_of_tie, f1, -1.0)
    return float(p[int(np.argmax(f1))])


def fit_logistic(x: np.ndarray, y: np.ndarray, *, l2: float = 1e-3) -> LogisticModel:
    """Fit ``P(y | x)`` by L-BFGS on the mean log loss plus ``l2 * |w|^2``.

    Raises:
        ValueError: If ``y`` holds a single class (nothing to learn).
    """
    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        raise ValueError("next-week labels are all one class; generate more customers or weeks")
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        logits = z @ w + b
        value = np.mean(np.logaddexp(0.0, logits) - y * logits) + l2 * w @ w
        resid = (special.expit(logits) - y) / len(y)
        return float(value), np.r_[z.T @ resid + 2 * l2 * w, resid.sum()]

    res = optimize.minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B")
    model = LogisticModel(res.x[:-1], float(res.x[-1]), mean, std, 0.5)
    threshold = _best_f1_threshold(model.predict_proba(x), y > 0)
    return LogisticModel(model.weights, model.bias, mean, std, threshold)


def binary_scores(model: LogisticModel, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """AUC, accuracy, precision, recall and F1 of ``model`` on ``(x, y)``."""
    prob = model.predict_proba(x)
    y = np.asarray(y, bool)
    pred = prob >= model.threshold
    tp = float((pred & y).sum())
    precision = tp / max(pred.sum(), 1)
    recall = tp / max(y.sum(), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "auc": roc_auc(prob[y], prob[~y]),
        "accuracy": float((pred == y).mean()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }


@dataclass(frozen=True)
class TSTRResult:
    """Next-week purchase model trained on synthetic vs on real, both tested on real.

    Attributes:
        synthetic: Scores of the model trained on generated customers (TSTR).
        real: Scores of the model trained on real training customers (TRTR).
        ratio: ``synthetic["auc"] / real["auc"]`` (the headline).
        ratios: The same ratio for every score.
        n_examples: Customer-weeks used: ``{"synthetic", "real_train", "real_test"}``.
        window: Weeks given individually to the model.
    """

    synthetic: dict[str, float]
    real: dict[str, float]
    ratio: float
    ratios: dict[str, float]
    n_examples: dict[str, int]
    window: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "ratio": self.ratio,
            "trained_on_synthetic": self.synthetic,
            "trained_on_real": self.real,
            "ratios": self.ratios,
            "n_examples": self.n_examples,
            "window": self.window,
            "model": "logistic regression (L2 1e-3) on last-week indicators + RFM summary",
        }


def tstr(
    synthetic: tuple[np.ndarray, np.ndarray],
    real_train: tuple[np.ndarray, np.ndarray],
    real_test: tuple[np.ndarray, np.ndarray],
    *,
    window: int = 8,
    seed: int = 0,
) -> TSTRResult:
    """Compare next-week purchase models trained on synthetic and on real customers.

    Args:
        synthetic: ``(behaviour, mask)`` of generated customers.
        real_train: ``(behaviour, mask)`` of real training customers; subsampled (by ``seed``)
            to as many customers as ``synthetic`` has, so both models see equal amounts of data.
        real_test: ``(behaviour, mask)`` of real customers neither model was fitted on.
        window: Most recent weeks given individually to the model.
        seed: Seed of the subsample of ``real_train``.

    Returns:
        A :class:`TSTRResult`.
    """
    rng = np.random.default_rng(seed)
    n_syn = len(synthetic[0])
    pick = rng.permutation(len(real_train[0]))[:n_syn]
    x_syn, y_syn = next_week_examples(*synthetic, window=window)
    x_tr, y_tr = next_week_examples(real_train[0][pick], real_train[1][pick], window=window)
    x_te, y_te = next_week_examples(*real_test, window=window)
    on_syn = binary_scores(fit_logistic(x_syn, y_syn), x_te, y_te)
    on_real = binary_scores(fit_logistic(x_tr, y_tr), x_te, y_te)
    ratios = {k: on_syn[k] / on_real[k] if on_real[k] else float("nan") for k in on_real}
    logger.info("TSTR: AUC %.3f (synthetic) vs %.3f (real)", on_syn["auc"], on_real["auc"])
    return TSTRResult(
        synthetic=on_syn,
        real=on_real,
        ratio=ratios["auc"],
        ratios=ratios,
        n_examples={"synthetic": len(y_syn), "real_train": len(y_tr), "real_test": len(y_te)},
        window=window,
    )
