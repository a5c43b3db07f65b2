"""write_report on a small real CDNOW panel: every file and key present, finite, reproducible."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gan_simulator.data import CustomerPanel, build_panel, load_cdnow
from gan_simulator.errors import DataError
from gan_simulator.metrics import real_week_arrays, write_report

REQUIRED = (
    "holdout.gan.total_error",
    "holdout.bgnbd.total_error",
    "holdout.gan.weekly_mape",
    "holdout.bgnbd.weekly_mape",
    "holdout.actual_total",
    "discriminative_score",
    "tstr_ratio",
    "privacy.mia_auc",
    "privacy.dcr_ratio",
)


class BootstrapRateSimulator:
    """A real (if naive) model for the report's two calls, built inside the test.

    ``generate`` resamples real *validation* customers (never used as train or test);
    ``forecast`` continues each customer at their calibration repeat-purchase rate per week.
    """

    def __init__(self, panel: CustomerPanel, seed: int) -> None:
        self.pool = panel.split_customers(seed)["validation"]

    def generate(self, n: int, periods: int, seed: int) -> dict[str, np.ndarray]:
        pick = np.random.default_rng(seed).integers(0, self.pool.n_customers, n)
        behaviour, mask, static = real_week_arrays(self.pool.subset(pick).time_slice(0, periods))
        return {
            "static": static,
            "behaviour": behaviour,
            "mask": mask,
            "actions": np.zeros(mask.shape, np.int16),
        }

    def forecast(
        self, panel_calibration: CustomerPanel, horizon: int, n_samples: int, seed: int
    ) -> np.ndarray:
        days = panel_calibration.feature("purchase_days")
        rate = (days.sum(axis=1) - 1) / np.maximum(panel_calibration.mask.sum(axis=1), 1)
        return np.repeat(rate[:, None], horizon, axis=1)


def _get(report: dict, dotted: str):
    node = report
    for part in dotted.split("."):
        node = node[part]
    return node


@pytest.fixture(scope="module")
def small() -> tuple:
    df = load_cdnow()
    panel = build_panel(df)
    keep = np.sort(np.random.default_rng(0).permutation(panel.n_customers)[:800])
    small = panel.subset(keep)
    return df[df["customer_id"].isin(small.customer_ids)], small


@pytest.fixture(scope="module")
def written(small, tmp_path_factory) -> tuple:
    torch.set_num_threads(1)
    _, panel = small
    out = tmp_path_factory.mktemp("report")
    report = write_report(
        BootstrapRateSimulator(panel, 0), panel, out, quick=True, train_seconds=12.5
    )
    return out, report


def test_report_has_every_required_metric_finite(written) -> None:
    out, report = written
    for key in REQUIRED:
        value = _get(report, key)
        assert isinstance(value, float) and math.isfinite(value), key
    assert report["train_seconds"] == 12.5
    assert 0 <= report["discriminative_score"] <= 0.5 and 0 <= report["privacy"]["mia_auc"] <= 1
    on_disk = json.loads(
        (out / "report.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON")
    )
    assert _get(on_disk, "holdout.gan.total_error") == report["holdout"]["gan"]["total_error"]


def test_report_markdown_links_existing_figures(written) -> None:
    out, report = written
    text = (out / "report.md").read_text()
    assert "## How to read this" in text and "| holdout total error (GAN) |" in text
    for rel in report["figures"].values():
        assert f"]({rel})" in text
        assert (out / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_is_reproducible_and_uses_transactions_when_given(small, written, tmp_path) -> None:
    df, panel = small
    again = write_report(
        BootstrapRateSimulator(panel, 0), panel, tmp_path, quick=True, transactions=df
    )
    first = written[1]
    for key in (
        "discriminative_score",
        "tstr_ratio",
        "privacy.mia_auc",
        "privacy.dcr_ratio",
        "holdout.gan.total_error",
    ):
        assert _get(again, key) == _get(first, key), key
    assert again["holdout"]["bgnbd_source"].startswith("transactions")
    assert again["holdout"]["actual_total"] == first["holdout"]["actual_total"]


def test_malformed_simulator_output_is_a_clear_error(small, tmp_path) -> None:
    _, panel = small

    class ShortWeeks(BootstrapRateSimulator):
        def generate(self, n, periods, seed):
            return super().generate(n, periods - 1, seed)

    with pytest.raises(DataError, match="expected"):
        write_report(ShortWeeks(panel, 0), panel, tmp_path, quick=True)
