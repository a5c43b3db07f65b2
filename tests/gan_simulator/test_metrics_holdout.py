"""Holdout forecast test: metrics of a perfect forecast, weekly RFM, BG/NBD vs the reference."""

from __future__ import annotations

import numpy as np
import pytest

from gan_simulator.data import build_panel, load_cdnow
from gan_simulator.errors import DataError
from gan_simulator.metrics.holdout import (
    bgnbd_forecast_from_transactions,
    forecast_metrics,
    holdout_test,
    weekly_rfm,
)


def test_weekly_rfm_known_values() -> None:
    days = np.array(
        [
            [1, 0, 2, 0, 0],  # first week 0, 3 purchase days -> x=2, last purchase week 2
            [0, 1, 0, 0, 0],  # first week 1, no repeat
            [0, 2, 0, 0, 0],  # two purchase days in the first week: x=1, t_x=0
        ]
    )
    rfm = weekly_rfm(days, np.array([0, 1, 1]), calibration_periods=4, time_offset=0.5)
    np.testing.assert_allclose(rfm.x, [2, 0, 1])
    np.testing.assert_allclose(rfm.t_x, [2, 0, 0])
    np.testing.assert_allclose(rfm.T, [3.5, 2.5, 2.5])


def test_weekly_rfm_rejects_customers_without_calibration_purchase() -> None:
    with pytest.raises(DataError, match="calibration weeks"):
        weekly_rfm(np.array([[0, 0, 1]]), np.array([2]), calibration_periods=2)


def test_forecast_metrics_signs_and_buckets() -> None:
    actual = np.array([[1.0, 0.0], [2.0, 2.0], [0.0, 1.0]])
    under = actual * 0.5
    m = forecast_metrics(actual, under, calibration_x=np.array([0, 9, 0]), cap=2)
    assert m["total_actual"] == 6.0 and m["total_error"] == pytest.approx(-0.5)
    assert m["weekly_mape"] == pytest.approx(0.5)
    # bucket 0: customers 0 and 2 (0.5 each), bucket 1 empty, bucket 2+: customer 1 (2.0)
    assert m["conditional_expectation"][0] == pytest.approx(0.5)
    assert np.isnan(m["conditional_expectation"][1])
    assert m["conditional_expectation"][2] == pytest.approx(2.0)


@pytest.fixture(scope="module")
def cdnow():
    df = load_cdnow()
    return df, build_panel(df)


def test_perfect_forecast_scores_zero_and_bgnbd_matches_the_reference(cdnow) -> None:
    _, panel = cdnow
    days = panel.feature("purchase_days")
    result = holdout_test(days, panel.first_period, 39, {"oracle": days[:, 39:]})
    report = result.to_dict()
    assert report["actual_total"] == 19684  # design.md: distinct purchase days, weeks 39-77
    assert report["oracle"]["total_error"] == 0 and report["oracle"]["weekly_mape"] == 0
    assert report["oracle"]["conditional_expectation"] == pytest.approx(
        report["actual_conditional_expectation"]
    )
    # weekly-summary BG/NBD lands within 0.5 points of the published -14.3% / 14.9%
    assert report["bgnbd"]["total_error"] == pytest.approx(-0.143, abs=0.005)
    assert report["bgnbd"]["weekly_mape"] == pytest.approx(0.149, abs=0.005)
    assert sum(report["frequency_bucket_sizes"]) == panel.n_customers


def test_day_level_bgnbd_reproduces_the_reference_fit(cdnow) -> None:
    df, panel = cdnow
    forecast, params = bgnbd_forecast_from_transactions(df, panel.customer_ids, "1997-09-30", 39)
    assert (params.r, params.alpha, params.a, params.b) == pytest.approx(
        (0.252, 4.789, 0.723, 2.161), abs=2e-3
    )
    assert forecast.sum() == pytest.approx(16874, abs=2)
