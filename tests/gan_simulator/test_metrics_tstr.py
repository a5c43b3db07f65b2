"""TSTR: AUC with ties, next-week examples, ratio ~1 for the same process, low for a useless one."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_population import structural_customers

from gan_simulator.metrics.tstr import fit_logistic, next_week_examples, roc_auc, tstr


def test_roc_auc_known_values_and_ties() -> None:
    assert roc_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert roc_auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert roc_auc(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.5
    # one tie (half) and one win out of two pairs
    assert roc_auc(np.array([2.0]), np.array([2.0, 1.0])) == 0.75


def test_next_week_examples_labels_and_lags() -> None:
    p = np.array([[0, 1, 0, 1, 1]], dtype=np.float32)
    b = np.stack([p, p, p * 10], axis=-1)
    mask = np.array([[False, True, True, True, True]])
    x, y = next_week_examples(b, mask, window=2)
    # observed weeks 1, 2, 3 have a next week; labels are purchases in weeks 2, 3, 4
    assert y.tolist() == [False, True, True]
    np.testing.assert_array_equal(x[:, :2], [[0, 1], [1, 0], [0, 1]])  # weeks t-1, t
    np.testing.assert_allclose(np.expm1(x[:, 2]), [0, 1, 0])  # recency in weeks


def test_logistic_rejects_a_single_class() -> None:
    with pytest.raises(ValueError, match="one class"):
        fit_logistic(np.zeros((5, 2)), np.zeros(5))


@pytest.fixture(scope="module")
def real() -> dict[str, dict[str, np.ndarray]]:
    return {
        "train": structural_customers(1500, 30, seed=21),
        "test": structural_customers(1500, 30, seed=22),
    }


def _pair(d):
    return d["behaviour"], d["mask"]


def test_same_process_ratio_near_one(real) -> None:
    synthetic = structural_customers(1500, 30, seed=23)
    result = tstr(_pair(synthetic), _pair(real["train"]), _pair(real["test"]))
    assert result.real["auc"] > 0.7  # the task is learnable from real data
    assert 0.95 < result.ratio < 1.05
    assert set(result.synthetic) == {"auc", "accuracy", "precision", "recall", "f1"}


def test_history_free_synthetic_data_teach_little(real) -> None:
    # every customer-week buys with the real overall rate, independent of the past
    rng = np.random.default_rng(0)
    base = structural_customers(1500, 30, seed=24)
    rate = base["behaviour"][..., 0][base["mask"]].mean()
    noise = base["behaviour"].copy()
    noise[..., 0] = (rng.random(noise.shape[:2]) < rate) & base["mask"]
    noise[..., 1] = noise[..., 0]
    noise[..., 2] = noise[..., 0] * 30.0
    result = tstr((noise, base["mask"]), _pair(real["train"]), _pair(real["test"]))
    assert result.ratio < 0.85
