"""Discriminative score: ~0 for two samples of one process, large for clearly different ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from metrics_population import structural_customers

from gan_simulator.metrics.discriminative import discriminative_score


@pytest.fixture(scope="module")
def populations() -> dict[str, dict[str, np.ndarray]]:
    return {
        "a": structural_customers(500, 26, seed=11),
        "b": structural_customers(500, 26, seed=12),
        "pricey": _pricier(structural_customers(500, 26, seed=13), factor=4.0),
    }


def _pricier(customers: dict[str, np.ndarray], factor: float) -> dict[str, np.ndarray]:
    """The same purchase process, every dollar amount multiplied by ``factor``."""
    out = {k: v.copy() for k, v in customers.items()}
    out["behaviour"][..., 2] *= factor
    out["static"][:, 1] *= factor
    return out


def _score(real, synthetic, seed=0):
    return discriminative_score(
        real["behaviour"],
        real["mask"],
        real["static"],
        synthetic["behaviour"],
        synthetic["mask"],
        synthetic["static"],
        seed=seed,
        epochs=10,
    )


def test_same_process_scores_near_zero(populations) -> None:
    torch.set_num_threads(1)
    result = _score(populations["a"], populations["b"])
    assert result.score < 0.08  # 500 held-out customers: 3 standard errors of a coin
    assert result.n_test == 500 and result.n_train == 500


def test_clearly_different_process_scores_high(populations) -> None:
    torch.set_num_threads(1)
    result = _score(populations["a"], populations["pricey"])
    assert result.score > 0.25


def test_same_seed_same_score_and_global_rng_untouched(populations) -> None:
    torch.set_num_threads(1)
    before = torch.random.get_rng_state()
    first = _score(populations["a"], populations["pricey"], seed=5)
    assert torch.equal(before, torch.random.get_rng_state())
    assert first == _score(populations["a"], populations["pricey"], seed=5)


def test_static_must_be_given_for_both_or_neither(populations) -> None:
    a = populations["a"]
    with pytest.raises(ValueError, match="both real and synthetic"):
        discriminative_score(
            a["behaviour"], a["mask"], a["static"], a["behaviour"], a["mask"], None
        )
