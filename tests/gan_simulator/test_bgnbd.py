"""BG/NBD and Gamma-Gamma: the CDNOW reference fit, and the formulas against simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gan_simulator.bgnbd import (
    BGNBDParams,
    GammaGammaParams,
    bgnbd_conditional_expected,
    bgnbd_expected_transactions,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    bgnbd_weekly_forecast,
    calibration_summary,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    period_counts,
)
from gan_simulator.data import load_cdnow
from gan_simulator.errors import DataError

TRUE = BGNBDParams(r=0.25, alpha=4.8, a=0.72, b=2.16)


@pytest.fixture(scope="module")
def cdnow() -> tuple[pd.DataFrame, pd.DataFrame, BGNBDParams]:
    df = load_cdnow()
    summary = calibration_summary(df, "1997-09-30", holdout_end="1998-06-30")
    params = fit_bgnbd(
        summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()
    )
    return df, summary, params


def _simulate(params: BGNBDParams, n: int, T: float, horizon: float, seed: int) -> dict:
    """Continuous-time BG/NBD customers observed on (0, T], with holdout (T, T + horizon]."""
    g = np.random.default_rng(seed)
    lam = g.gamma(params.r, 1.0 / params.alpha, n)
    p = g.beta(params.a, params.b, n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n)
    t_x = np.zeros(n)
    hold = np.zeros(n)
    alive_at_T = np.ones(n, dtype=bool)
    while alive.any():
        now = now + g.exponential(1.0, n) / lam
        active = alive & (now <= T + horizon)
        in_cal = active & (now <= T)
        x += in_cal
        t_x = np.where(in_cal, now, t_x)
        hold += active & (now > T)
        dies = active & (g.random(n) < p)
        alive_at_T &= ~(dies & (now <= T))
        alive = active & ~dies
    return {"x": x, "t_x": t_x, "T": np.full(n, T), "hold": hold, "alive_at_T": alive_at_T}


def test_cdnow_fit_reproduces_the_full_data_mle(cdnow) -> None:
    _, summary, params = cdnow
    assert len(summary) == 23_570
    assert params.r == pytest.approx(0.252, abs=0.001)
    assert params.alpha == pytest.approx(4.789, abs=0.005)
    assert params.a == pytest.approx(0.723, abs=0.002)
    assert params.b == pytest.approx(2.161, abs=0.005)


def test_cdnow_holdout_totals_and_weekly_mape(cdnow) -> None:
    df, summary, params = cdnow
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    actual = summary["holdout_frequency"].sum()
    assert actual == 19_684
    predicted = bgnbd_conditional_expected(params, x, t_x, T, 39.0).sum()
    assert predicted == pytest.approx(16_874, abs=5)
    assert predicted / actual - 1.0 == pytest.approx(-0.143, abs=0.001)
    weekly = bgnbd_weekly_forecast(params, x, t_x, T, 39).sum(axis=0)
    actual_weekly = period_counts(df, "1997-10-01", 39, customers=summary.index)
    assert actual_weekly.sum() == actual
    mape = np.mean(np.abs(weekly - actual_weekly) / actual_weekly)
    assert mape == pytest.approx(0.149, abs=0.001)


def test_cdnow_gamma_gamma_is_close_to_the_published_sample_fit(cdnow) -> None:
    _, summary, _ = cdnow
    gg = fit_gamma_gamma(summary["frequency"].to_numpy(), summary["monetary"].to_numpy())
    # Published on the 1/10 sample: p=6.25, q=3.74, gamma=15.44; the full data is close.
    assert gg.p == pytest.approx(6.25, rel=0.05)
    assert gg.q == pytest.approx(3.74, rel=0.05)
    assert gg.gamma == pytest.approx(15.44, rel=0.05)


def test_summary_counts_purchase_days_and_repeat_spend() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "timestamp": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-01-15", "2020-02-05", "2020-01-08", "2020-02-20"]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0],
        }
    )
    s = calibration_summary(df, "2020-01-29", holdout_end="2020-02-29")
    assert list(s.index) == ["a", "b"]  # c first buys in the holdout
    a, b = s.loc["a"], s.loc["b"]
    assert a["frequency"] == 1  # two rows on Jan 1 are one purchase day
    assert a["recency"] == pytest.approx(2.0)
    assert a["T"] == pytest.approx(4.0)
    assert a["monetary"] == pytest.approx(20.0)  # first day (10 + 5) excluded
    assert a["holdout_frequency"] == 1
    assert b["frequency"] == 0 and b["monetary"] == 0 and b["recency"] == 0
    assert b["T"] == pytest.approx(3.0)


def test_summary_rejects_bad_frames() -> None:
    with pytest.raises(DataError, match="customer_id"):
        calibration_summary(pd.DataFrame({"timestamp": [], "amount": []}), "2020-01-01")
    bad = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2020-01-01"], "amount": [1.0]})
    with pytest.raises(DataError, match="datetime64"):
        calibration_summary(bad, "2020-01-01")
    good = bad.assign(timestamp=pd.to_datetime(bad["timestamp"]))
    with pytest.raises(DataError, match="must be after"):
        calibration_summary(good, "2020-01-01", holdout_end="2019-12-01")
    with pytest.raises(DataError, match="no purchase"):
        calibration_summary(good, "2019-01-01")
    with pytest.raises(DataError, match="inconsistent"):
        fit_bgnbd(np.array([0.0]), np.array([2.0]), np.array([5.0]))


def test_fit_recovers_parameters_of_simulated_customers() -> None:
    sim = _simulate(TRUE, 6000, 39.0, 0.0, seed=1)
    fit = fit_bgnbd(sim["x"], sim["t_x"], sim["T"])
    assert fit.r == pytest.approx(TRUE.r, rel=0.15)
    assert fit.r / fit.alpha == pytest.approx(TRUE.r / TRUE.alpha, rel=0.1)
    assert fit.a / (fit.a + fit.b) == pytest.approx(TRUE.a / (TRUE.a + TRUE.b), rel=0.2)
    ll_fit = bgnbd_log_likelihood(fit, sim["x"], sim["t_x"], sim["T"]).sum()
    ll_true = bgnbd_log_likelihood(TRUE, sim["x"], sim["t_x"], sim["T"]).sum()
    assert ll_fit >= ll_true  # the optimiser finds at least the true parameters' likelihood


def test_expectations_match_simulation() -> None:
    sim = _simulate(TRUE, 40_000, 26.0, 26.0, seed=2)
    # E[X(t)] for a new customer against the simulated calibration counts.
    assert sim["x"].mean() == pytest.approx(bgnbd_expected_transactions(TRUE, 26.0), rel=0.04)
    # Conditional expectation summed over customers against the simulated holdout.
    cond = bgnbd_conditional_expected(TRUE, sim["x"], sim["t_x"], sim["T"], 26.0)
    assert cond.sum() == pytest.approx(sim["hold"].sum(), rel=0.04)
    # ... and by calibration frequency (the classic conditional-expectation plot).
    for k in (0, 1, 3):
        sel = sim["x"] == k
        assert cond[sel].mean() == pytest.approx(sim["hold"][sel].mean(), rel=0.12)
    # P(alive) averaged over customers against the simulated share alive at T.
    p_alive = bgnbd_p_alive(TRUE, sim["x"], sim["t_x"], sim["T"])
    assert p_alive.mean() == pytest.approx(sim["alive_at_T"].mean(), abs=0.01)


def test_conditional_expectation_sanity() -> None:
    t = np.arange(0, 53, dtype=float)
    one = bgnbd_conditional_expected(
        TRUE, np.full(53, 2.0), np.full(53, 10.0), np.full(53, 30.0), t
    )
    assert one[0] == 0 and np.all(np.diff(one) > 0)
    # A customer silent for longer is expected to buy less, and is less likely alive.
    T = np.array([12.0, 20.0, 30.0])
    x, t_x = np.full(3, 3.0), np.full(3, 10.0)
    assert np.all(np.diff(bgnbd_conditional_expected(TRUE, x, t_x, T, 10.0)) < 0)
    assert np.all(np.diff(bgnbd_p_alive(TRUE, x, t_x, T)) < 0)
    assert bgnbd_p_alive(TRUE, np.zeros(1), np.zeros(1), np.full(1, 30.0))[0] == 1.0
    # Weekly increments add up to the horizon total.
    weekly = bgnbd_weekly_forecast(TRUE, x, t_x, T, 8)
    assert weekly.shape == (3, 8) and np.all(weekly > 0)
    np.testing.assert_allclose(weekly.sum(1), bgnbd_conditional_expected(TRUE, x, t_x, T, 8.0))
    # Heavy buyers do not overflow (2F1 is ~1e83 here); value checked with mpmath at 50 digits.
    big = bgnbd_conditional_expected(
        TRUE, np.array([300.0]), np.array([38.0]), np.array([39.0]), 39.0
    )
    assert big[0] == pytest.approx(60.6333, abs=1e-3)


def test_gamma_gamma_recovers_simulated_spend() -> None:
    g = np.random.default_rng(3)
    true = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    n = 8000
    nu = g.gamma(true.q, 1.0 / true.gamma, n)
    x = g.integers(1, 8, n).astype(float)
    monetary = g.gamma(true.p * x, 1.0 / nu) / x  # mean of x Gamma(p, nu) transactions
    fit = fit_gamma_gamma(x, monetary)
    pop_mean = true.p * true.gamma / (true.q - 1)
    assert fit.p * fit.gamma / (fit.q - 1) == pytest.approx(pop_mean, rel=0.05)
    assert fit.p == pytest.approx(true.p, rel=0.15)
    # The posterior mean shrinks an observed average toward the population mean.
    post = gamma_gamma_expected_spend(fit, np.array([1.0, 20.0, 0.0]), np.array([100.0, 100.0, 0]))
    assert pop_mean < post[0] < post[1] < 100.0
    assert post[2] == pytest.approx(fit.p * fit.gamma / (fit.q - 1))
