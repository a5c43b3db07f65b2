"""Discriminative score: can a post-hoc classifier tell generated customers from real ones?

A small GRU reads each customer's weekly sequence (purchased, ``log1p`` transactions,
``log1p`` spend, observed flag) and its static profile, and predicts *real* or *synthetic*.
It is trained on one part of a balanced real + synthetic sample and scored on the held-out
rest. The score is ``|accuracy - 0.5|``: 0 when the classifier cannot do better than a coin
(the generated customers are indistinguishable), 0.5 when it separates them perfectly
(TimeGAN, Yoon et al. 2019, section 5).

Randomness (split, initial weights, batches) comes from ``seed`` only; the global torch RNG is
left as it was.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from gan_simulator.metrics.fidelity import PURCHASED, SPEND, TRANSACTIONS

logger = logging.getLogger(__name__)


def sequence_inputs(behaviour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-week classifier inputs ``float32[n, T, 4]``: purchased, log1p tx, log1p spend, mask.

    Unobserved weeks are zeroed so nothing leaks from outside the mask.
    """
    b = np.asarray(behaviour, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    feats = np.stack(
        [
            b[..., PURCHASED],
            np.log1p(np.maximum(b[..., TRANSACTIONS], 0.0)),
            np.log1p(np.maximum(b[..., SPEND], 0.0)),
            np.ones(m.shape),
        ],
        axis=-1,
    )
    feats[~m] = 0.0
    return feats.astype(np.float32)


class _SequenceClassifier(nn.Module):
    """GRU over weeks, its last hidden state joined with the static profile, one logit."""

    def __init__(self, n_features: int, n_static: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_features, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden + n_static, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    def forward(self, seq: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(seq)
        return self.head(torch.cat([h[-1], static], dim=1)).squeeze(1)


@dataclass(frozen=True)
class DiscriminativeResult:
    """Outcome of the post-hoc real-vs-synthetic classifier.

    Attributes:
        score: ``|accuracy - 0.5|`` on the held-out part (0 best, 0.5 worst).
        accuracy: Held-out accuracy.
        train_accuracy: Accuracy on the part it was trained on (a gap shows overfitting).
        n_train: Customers (real + synthetic) it was trained on.
        n_test: Customers (real + synthetic) it was scored on.
        epochs: Training epochs.
    """

    score: float
    accuracy: float
    train_accuracy: float
    n_train: int
    n_test: int
    epochs: int

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready fields."""
        return asdict(self)


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean = train.mean(axis=0, keepdims=True)
    std = train.std(axis=0, keepdims=True)
    std[std == 0] = 1.0
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]


def discriminative_score(
    real_behaviour: np.ndarray,
    real_mask: np.ndarray,
    real_static: np.ndarray | None,
    synthetic_behaviour: np.ndarray,
    synthetic_mask: np.ndarray,
    synthetic_static: np.ndarray | None,
    *,
    seed: int = 0,
    train_fraction: float = 0.5,
    epochs: int = 20,
    hidden: int = 16,
    batch_size: int = 64,
    lr: float = 3e-3,
    max_per_class: int | None = None,
) -> DiscriminativeResult:
    """Train a GRU to tell real from synthetic customers; score ``|held-out accuracy - 0.5|``.

    Args:
        real_behaviour: ``float[n_r, T, 3]`` real weeks (WEEK_FEATURES order).
        real_mask: ``bool[n_r, T]``.
        real_static: ``float[n_r, S]`` static profiles, or None to use the sequence only.
        synthetic_behaviour: ``float[n_s, T, 3]`` generated weeks (same ``T``).
        synthetic_mask: ``bool[n_s, T]``.
        synthetic_static: ``float[n_s, S]`` or None (must be None exactly when ``real_static`` is).
        seed: Seed of the split, the initial weights and the batch order.
        train_fraction: Share of each class used for training; the rest is scored.
        epochs: Passes over the training part.
        hidden: GRU width.
        batch_size: Customers per gradient step.
        lr: Adam learning rate.
        max_per_class: Cap on customers per class (both classes use ``min(n_r, n_s, cap)``).

    Returns:
        A :class:`DiscriminativeResult`.
    """
    if (real_static is None) != (synthetic_static is None):
        raise ValueError("give static profiles for both real and synthetic customers, or neither")
    rng = np.random.default_rng(seed)
    n = min(len(real_behaviour), len(synthetic_behaviour))
    if max_per_class is not None:
        n = min(n, max_per_class)
    if n < 4:
        raise ValueError(f"need at least 4 customers per class, got {n}")
    pick_r = rng.permutation(len(real_behaviour))[:n]
    pick_s = rng.permutation(len(synthetic_behaviour))[:n]
    seq = np.concatenate(
        [
            sequence_inputs(real_behaviour[pick_r], real_mask[pick_r]),
            sequence_inputs(synthetic_behaviour[pick_s], synthetic_mask[pick_s]),
        ]
    )
    if real_static is not None:
        static = np.concatenate([real_static[pick_r], synthetic_static[pick_s]]).astype(np.float64)
        static = np.sign(static) * np.log1p(np.abs(static))
    else:
        static = np.zeros((2 * n, 0))
    label = np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)

    n_train = max(1, min(n - 1, round(train_fraction * n)))
    order_r, order_s = rng.permutation(n), rng.permutation(n) + n
    train_idx = np.concatenate([order_r[:n_train], order_s[:n_train]])
    test_idx = np.concatenate([order_r[n_train:], order_s[n_train:]])
    flat = seq.reshape(len(seq), -1)
    flat_tr, flat_te = _standardise(flat[train_idx], flat[test_idx])
    static_tr, static_te = _standardise(static[train_idx], static[test_idx])
    seq_tr = torch.from_numpy(flat_tr.reshape(len(train_idx), *seq.shape[1:]))
    seq_te = torch.from_numpy(flat_te.reshape(len(test_idx), *seq.shape[1:]))
    st_tr, st_te = torch.from_numpy(static_tr), torch.from_numpy(static_te)
    y_tr, y_te = torch.from_numpy(label[train_idx]), torch.from_numpy(label[test_idx])

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _SequenceClassifier(seq.shape[2], static.shape[1], hidden)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        model.train()
        for batch in np.array_split(
            rng.permutation(len(train_idx)), max(1, len(train_idx) // batch_size)
        ):
            b = torch.from_numpy(batch)
            loss = loss_fn(model(seq_tr[b], st_tr[b]), y_tr[b])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    model.eval()
    with torch.no_grad():
        acc_tr = float(((model(seq_tr, st_tr) > 0).float() == y_tr).float().mean())
        acc_te = float(((model(seq_te, st_te) > 0).float() == y_te).float().mean())
    logger.info(
        "discriminative: held-out accuracy %.3f (train %.3f) on %d customers",
        acc_te,
        acc_tr,
        len(test_idx),
    )
    return DiscriminativeResult(
        score=abs(acc_te - 0.5),
        accuracy=acc_te,
        train_accuracy=acc_tr,
        n_train=int(len(train_idx)),
        n_test=int(len(test_idx)),
        epochs=epochs,
    )
