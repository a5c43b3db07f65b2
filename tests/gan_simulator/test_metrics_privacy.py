"""Privacy: DCR with exact ties, dcr_ratio and the membership-inference AUC."""

from __future__ import annotations

import numpy as np
import pytest
from metrics_population import structural_customers

from gan_simulator.metrics.privacy import (
    membership_inference_auc,
    nearest_distances,
    privacy_records,
    privacy_report,
)


def test_nearest_distances_exact_ties_are_zero() -> None:
    ref = np.array([[0.0, 0.0], [3.0, 4.0], [0.1, 0.2]])
    q = np.array([[3.0, 4.0], [0.1, 0.2], [6.0, 8.0], [0.1, 0.2000001]])
    d = nearest_distances(q, ref, chunk=2)
    assert d[0] == 0.0 and d[1] == 0.0  # exact copies, even where float arithmetic is inexact
    assert d[2] == pytest.approx(5.0)
    assert 0.0 < d[3] < 1e-5  # a near copy is close but not an exact match


def test_records_round_counts_and_zero_unobserved_weeks() -> None:
    b = np.array([[[1, 1.2, 10.0], [1, 2.0, 20.0]]], dtype=np.float32)
    mask = np.array([[False, True]])
    rec = privacy_records(b, mask, "counts+spend")
    np.testing.assert_allclose(rec, [[0.0, 2.0, 0.0, round(np.log1p(20.0), 2)]])
    with pytest.raises(ValueError, match="representation"):
        privacy_records(b, mask, "raw")


@pytest.fixture(scope="module")
def world() -> dict[str, dict[str, np.ndarray]]:
    return {
        "train": structural_customers(1200, 26, seed=31),
        "holdout": structural_customers(600, 26, seed=32),
        "independent": structural_customers(600, 26, seed=33),
    }


def _pair(d):
    return d["behaviour"], d["mask"]


def test_independent_generator_looks_like_fresh_customers(world) -> None:
    result = privacy_report(
        _pair(world["train"]), _pair(world["holdout"]), _pair(world["independent"])
    )
    assert 0.4 < result.mia_auc < 0.6
    assert 0.8 < result.dcr_ratio < 1.25
    share = result.exact_match_share
    # ties are common between real customers (one purchase, never again) ...
    assert share["holdout"] > 0.05
    # ... and an independent generator has about as many, no excess
    assert abs(share["generated"] - share["holdout"]) < 0.08


def test_copying_generator_is_caught(world) -> None:
    train = world["train"]
    # "generates" exactly its training customers
    result = privacy_report(_pair(train), _pair(world["holdout"]), _pair(train))
    assert result.exact_match_share["generated"] == 1.0
    assert result.dcr_ratio == 0.0
    assert result.mia_auc > 0.8  # below 1 only by members tied with non-members
    summary = result.to_dict()
    assert summary["exact_match_excess"] > 0.5


def test_attack_auc_is_one_half_when_everyone_is_tied() -> None:
    same = np.ones((50, 4))
    assert membership_inference_auc(same, same, same) == 0.5
    members, non_members = np.arange(10.0)[:, None], np.arange(10.0, 20.0)[:, None]
    assert membership_inference_auc(members, non_members, members) == 1.0
