"""The GAN report: fidelity, forecasting and privacy, as ``report.md``, PNGs and ``report.json``.

:func:`write_report` runs every metric of this package against one simulator and one real
panel and writes the results atomically. The simulator needs two methods:

* ``generate(n, periods, seed) -> dict`` with ``static [n, S]``, ``behaviour [n, T, 3]``
  (:data:`~gan_simulator.protocol.WEEK_FEATURES` order), ``mask [n, T]`` and ``actions [n, T]``:
  brand-new synthetic customers over ``periods`` calendar weeks;
* ``forecast(panel_calibration, horizon, n_samples, seed) -> float[N, horizon]``: expected
  purchase days per real customer and week after the calibration weeks, with no action.

Which real customers are compared with what:

* fidelity, discriminative score, TSTR test set, privacy holdout: the *test* customers of
  ``panel.split_customers(split_seed)`` (default fractions 0.8/0.1/0.1);
* TSTR's real-trained model and the privacy reference: the *train* customers of that split;
* holdout forecast: *all* customers who bought during calibration, as in the classic test.

The split draws one permutation per seed whatever the fractions, so it nests with the GAN
trainer's ``split_customers(split_seed, (0.9, 0.1, 0.0))``: these *test* customers (the last
10%) are exactly the trainer's validation customers, used for early stopping only and never
for a gradient step, and these *train* customers (the first 80%) all trained the GAN.

Real weeks are read as ``(purchased, count, spend)`` with ``count = count_feature``; the
default ``"purchase_days"`` is what ``GANSimulator`` generates as its weekly count.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from gan_simulator.data import CustomerPanel
from gan_simulator.errors import DataError
from gan_simulator.io import write_json, write_text
from gan_simulator.metrics import plots
from gan_simulator.metrics.discriminative import discriminative_score
from gan_simulator.metrics.fidelity import compare_fidelity
from gan_simulator.metrics.holdout import (
    HoldoutResult,
    bgnbd_forecast_from_transactions,
    holdout_test,
)
from gan_simulator.metrics.privacy import REPRESENTATIONS, privacy_report
from gan_simulator.metrics.report_text import render_markdown
from gan_simulator.metrics.tstr import tstr

logger = logging.getLogger(__name__)

HEADLINE_PRIVACY = "counts+spend"
"""Record representation of the headline ``privacy.dcr_ratio`` and ``privacy.mia_auc``."""


class ReportableSimulator(Protocol):
    """What :func:`write_report` needs from a simulator (``GANSimulator`` provides it)."""

    def generate(self, n: int, periods: int, seed: int) -> dict[str, np.ndarray]:
        """New synthetic customers (see the module docstring)."""
        ...

    def forecast(
        self, panel_calibration: CustomerPanel, horizon: int, n_samples: int, seed: int
    ) -> np.ndarray:
        """Expected purchase days ``[N, horizon]`` continuing each real history."""
        ...


def real_week_arrays(
    panel: CustomerPanel, count_feature: str = "purchase_days"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(behaviour [N, T, 3], mask [N, T], static [N, S])`` of a panel.

    ``behaviour`` is in WEEK_FEATURES order with the panel's ``count_feature`` as the weekly
    count (``"purchase_days"`` or ``"transactions"``).
    """
    behaviour = np.stack(
        [panel.feature(name) for name in ("purchased", count_feature, "spend")], axis=-1
    ).astype(np.float32)
    return behaviour, panel.mask.astype(bool), panel.static.astype(np.float32)


def _generated_arrays(
    out: dict[str, Any], n: int, periods: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        behaviour = np.asarray(out["behaviour"], dtype=np.float32)
        mask = np.asarray(out["mask"], dtype=bool)
        static = np.asarray(out["static"], dtype=np.float32)
    except KeyError as exc:
        raise DataError(
            f"simulator.generate returned no {exc.args[0]!r}; it must return static, behaviour and mask"
        ) from None
    if behaviour.shape[:2] != (n, periods) or behaviour.shape[2] != 3 or mask.shape != (n, periods):
        raise DataError(
            f"simulator.generate({n}, {periods}) returned behaviour {behaviour.shape} and mask "
            f"{mask.shape}; expected ({n}, {periods}, 3) and ({n}, {periods})"
        )
    return behaviour, mask, static


def _finite_or_none(obj: Any) -> Any:
    """Replace NaN/inf floats by None so report.json is strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _settings(quick: bool, n_test: int) -> dict[str, Any]:
    if quick:
        return {
            "n_generated": min(n_test, 200),
            "disc_epochs": 3,
            "disc_max_per_class": 200,
            "forecast_samples": 2,
            "holdout_max_customers": 600,
            "privacy_max_records": 200,
        }
    return {
        "n_generated": n_test,
        "disc_epochs": 20,
        "disc_max_per_class": None,
        "forecast_samples": 16,
        "holdout_max_customers": None,
        "privacy_max_records": None,
    }


def write_report(
    simulator: ReportableSimulator,
    panel: CustomerPanel,
    out_dir: str | Path,
    *,
    calibration_periods: int = 39,
    seed: int = 0,
    train_seconds: float | None = None,
    quick: bool = False,
    split_seed: int | None = None,
    transactions: pd.DataFrame | None = None,
    count_feature: str = "purchase_days",
) -> dict[str, Any]:
    """Evaluate ``simulator`` against ``panel`` and write report.md, PNGs and report.json.

    Args:
        simulator: Provides ``generate`` and ``forecast`` (see :class:`ReportableSimulator`).
        panel: The real weekly panel the simulator was trained on (all customers).
        out_dir: Folder for ``report.md``, ``report.json`` and ``figures/*.png``.
        calibration_periods: Weeks of calibration in the holdout test.
        seed: Seed of generation, forecasting samples and every metric's randomness.
        train_seconds: Training wall time to record (None when unknown).
        quick: Shrink sample sizes and epochs (for tests and smoke runs).
        split_seed: Seed of ``panel.split_customers`` the simulator was trained with
            (default: ``seed``).
        transactions: Optional canonical transaction frame of ``panel``; when given, BG/NBD is
            fitted on the exact day-level summary instead of the weekly one.
        count_feature: Panel feature compared with the simulator's weekly count.

    Returns:
        The dictionary written to ``report.json``.
    """
    out = Path(out_dir)
    fig_dir = out / "figures"
    timings: dict[str, float] = {}
    parts = panel.split_customers(split_seed if split_seed is not None else seed)
    train, test = parts["train"], parts["test"]
    settings = _settings(quick, test.n_customers)
    periods = panel.n_periods

    clock = time.perf_counter()
    n_gen = settings["n_generated"]
    gen_b, gen_m, gen_s = _generated_arrays(
        simulator.generate(n_gen, periods, seed), n_gen, periods
    )
    test_b, test_m, test_s = real_week_arrays(test, count_feature)
    train_b, train_m, _ = real_week_arrays(train, count_feature)
    timings["generate"] = time.perf_counter() - clock

    clock = time.perf_counter()
    fidelity = compare_fidelity(test_b, test_m, gen_b, gen_m)
    timings["fidelity"] = time.perf_counter() - clock

    clock = time.perf_counter()
    disc = discriminative_score(
        test_b,
        test_m,
        test_s,
        gen_b,
        gen_m,
        gen_s,
        seed=seed,
        epochs=settings["disc_epochs"],
        max_per_class=settings["disc_max_per_class"],
    )
    timings["discriminative"] = time.perf_counter() - clock

    clock = time.perf_counter()
    next_week = tstr((gen_b, gen_m), (train_b, train_m), (test_b, test_m), seed=seed)
    timings["tstr"] = time.perf_counter() - clock

    clock = time.perf_counter()
    holdout = _holdout(simulator, panel, calibration_periods, seed, settings, transactions)
    timings["holdout"] = time.perf_counter() - clock

    clock = time.perf_counter()
    privacy = {
        rep: privacy_report(
            (train_b, train_m),
            (test_b, test_m),
            (gen_b, gen_m),
            representation=rep,
            seed=seed,
            max_records=settings["privacy_max_records"],
        )
        for rep in REPRESENTATIONS
    }
    timings["privacy"] = time.perf_counter() - clock

    head = privacy[HEADLINE_PRIVACY]
    report: dict[str, Any] = {
        "holdout": holdout.to_dict(),
        "discriminative_score": disc.score,
        "tstr_ratio": next_week.ratio,
        "privacy": {
            "mia_auc": head.mia_auc,
            "dcr_ratio": head.dcr_ratio,
            "headline_representation": HEADLINE_PRIVACY,
            **{rep: result.to_dict() for rep, result in privacy.items()},
        },
        "train_seconds": train_seconds,
        "discriminative": disc.to_dict(),
        "tstr": next_week.to_dict(),
        "fidelity": fidelity.to_dict(),
        "data": {
            "n_customers": panel.n_customers,
            "n_periods": periods,
            "first_week": str(panel.period_starts[0]),
            "n_train": train.n_customers,
            "n_test": test.n_customers,
            "n_generated": n_gen,
        },
        "settings": {
            "seed": seed,
            "split_seed": split_seed if split_seed is not None else seed,
            "count_feature": count_feature,
            "quick": quick,
            "calibration_periods": calibration_periods,
            **settings,
        },
    }
    clock = time.perf_counter()
    report["figures"] = _figures(fig_dir, fidelity, holdout, privacy[HEADLINE_PRIVACY])
    timings["figures"] = time.perf_counter() - clock
    report["timings_seconds"] = timings
    report = _finite_or_none(report)
    write_json(out / "report.json", report)
    write_text(out / "report.md", render_markdown(report))
    logger.info("report written to %s", out)
    return report


def holdout_forecast_test(
    simulator: ReportableSimulator,
    panel: CustomerPanel,
    calibration_periods: int = 39,
    *,
    samples: int = 16,
    seed: int = 0,
    transactions: pd.DataFrame | None = None,
    max_customers: int | None = None,
) -> HoldoutResult:
    """The classic holdout test of ``simulator`` next to BG/NBD (the report's holdout part).

    Every customer whose first purchase lies in the calibration weeks has their real
    calibration history continued ``n_periods - calibration_periods`` weeks with no action
    (``samples`` sample paths each); BG/NBD is fitted on the same calibration data (the exact
    day-level summary when ``transactions`` is given).
    """
    settings = {"holdout_max_customers": max_customers, "forecast_samples": samples}
    return _holdout(simulator, panel, calibration_periods, seed, settings, transactions)


def _holdout(
    simulator: ReportableSimulator,
    panel: CustomerPanel,
    calibration_periods: int,
    seed: int,
    settings: dict[str, Any],
    transactions: pd.DataFrame | None,
) -> HoldoutResult:
    keep = np.flatnonzero(panel.first_period < calibration_periods)
    cap = settings["holdout_max_customers"]
    if cap is not None and len(keep) > cap:
        keep = np.sort(np.random.default_rng(seed).permutation(keep)[:cap])
    cohort = panel.subset(keep)
    horizon = cohort.n_periods - calibration_periods
    calibration = cohort.time_slice(0, calibration_periods)
    gan = np.asarray(
        simulator.forecast(calibration, horizon, settings["forecast_samples"], seed),
        dtype=np.float64,
    )
    if gan.shape != (cohort.n_customers, horizon):
        raise DataError(
            f"simulator.forecast returned shape {gan.shape}; expected ({cohort.n_customers}, {horizon})"
        )
    bgnbd = None
    if transactions is not None:
        last_day = pd.Timestamp(cohort.period_starts[calibration_periods]) - pd.Timedelta(days=1)
        bgnbd = bgnbd_forecast_from_transactions(
            transactions, cohort.customer_ids, last_day, horizon
        )
    return holdout_test(
        cohort.feature("purchase_days"),
        cohort.first_period,
        calibration_periods,
        {"gan": gan},
        bgnbd_forecast=bgnbd,
    )


def _figures(fig_dir: Path, fidelity, holdout, privacy) -> dict[str, str]:
    """Draw every figure; returns ``{name: path relative to the report folder}``."""
    f = fidelity.to_dict()
    h = holdout.to_dict()
    names: dict[str, Path] = {}
    names["repeat_purchases"] = plots.bars(
        fig_dir / "repeat_purchases.png",
        f["repeat_purchases"]["buckets"],
        {
            "real (test)": f["repeat_purchases"]["real"],
            "generated": f["repeat_purchases"]["synthetic"],
        },
        title="Repeat purchase weeks per customer",
        xlabel="repeat purchase weeks",
        ylabel="share of customers",
    )
    names["spend_per_transaction"] = plots.histograms(
        fig_dir / "spend_per_transaction.png",
        {"real (test)": fidelity.spend_real, "generated": fidelity.spend_synthetic},
        title="Spend per transaction",
        xlabel="dollars (log scale)",
        log_x=True,
    )
    top = int(max(fidelity.gaps_real.max(initial=1), fidelity.gaps_synthetic.max(initial=1)))
    names["inter_purchase_weeks"] = plots.histograms(
        fig_dir / "inter_purchase_weeks.png",
        {"real (test)": fidelity.gaps_real, "generated": fidelity.gaps_synthetic},
        title="Weeks between purchases",
        xlabel="weeks",
        bins=np.arange(0.5, top + 1.5),
    )
    names["weekly_purchase_rate"] = plots.lines(
        fig_dir / "weekly_purchase_rate.png",
        np.arange(len(fidelity.weekly_real)),
        {"real (test)": fidelity.weekly_real, "generated": fidelity.weekly_synthetic},
        title="Share of customers purchasing each week",
        xlabel="week",
        ylabel="share",
    )
    names["autocorrelation"] = plots.lines(
        fig_dir / "autocorrelation.png",
        np.arange(1, len(fidelity.acf_real) + 1),
        {"real (test)": fidelity.acf_real, "generated": fidelity.acf_synthetic},
        title="Autocorrelation of the weekly purchase indicator",
        xlabel="lag (weeks)",
        ylabel="correlation",
    )
    weeks = np.arange(h["calibration_periods"], h["calibration_periods"] + h["holdout_periods"])
    names["holdout_weekly"] = plots.lines(
        fig_dir / "holdout_weekly.png",
        weeks,
        {
            "actual": h["actual_weekly"],
            "GAN": h["gan"]["weekly_predicted"],
            "BG/NBD": h["bgnbd"]["weekly_predicted"],
        },
        title="Holdout: repeat purchase days per week",
        xlabel="week",
        ylabel="purchase days",
    )
    names["holdout_cumulative"] = plots.lines(
        fig_dir / "holdout_cumulative.png",
        weeks,
        {
            "actual": np.cumsum(h["actual_weekly"]),
            "GAN": np.cumsum(h["gan"]["weekly_predicted"]),
            "BG/NBD": np.cumsum(h["bgnbd"]["weekly_predicted"]),
        },
        title="Holdout: cumulative repeat purchase days",
        xlabel="week",
        ylabel="purchase days",
    )
    buckets = [str(i) for i in range(len(h["actual_conditional_expectation"]) - 1)]
    names["conditional_expectation"] = plots.bars(
        fig_dir / "conditional_expectation.png",
        [*buckets, f"{len(buckets)}+"],
        {
            "actual": np.nan_to_num(h["actual_conditional_expectation"]),
            "GAN": np.nan_to_num(h["gan"]["conditional_expectation"]),
            "BG/NBD": np.nan_to_num(h["bgnbd"]["conditional_expectation"]),
        },
        title="Holdout purchase days per customer by calibration frequency",
        xlabel="repeat purchase days in calibration",
        ylabel="mean holdout purchase days",
    )
    names["privacy_dcr"] = plots.ecdfs(
        fig_dir / "privacy_dcr.png",
        {"holdout (real, unseen)": privacy.dcr_holdout, "generated": privacy.dcr_generated},
        title=f"Distance to closest training record ({privacy.representation})",
        xlabel="Euclidean distance",
    )
    return {k: str(v.relative_to(fig_dir.parent)) for k, v in names.items()}
