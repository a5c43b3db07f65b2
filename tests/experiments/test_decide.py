"""``crmgym decide`` on a tiny log: one row per customer, sensible money, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.decide import decide
from gan_simulator.errors import DataError


def test_decide_heuristic_one_row_per_customer(tiny_log, tiny_gan) -> None:
    out = decide("myopic_uplift", tiny_log, "1997-06-30", simulator=str(tiny_gan))
    assert len(out) == tiny_log["customer_id"].nunique()
    assert out["customer_id"].is_unique
    # myopic_uplift picks the best expected one-week profit, so never worse than no action
    assert (out["expected_uplift"] >= -1e-6).all()
    assert set(out["action"]) <= {"none", "email", "discount_10", "discount_25", "loyalty_perk"}
    assert out["why"].str.startswith("rule:").all()


def test_decide_recency_reflects_history(tiny_log, tiny_gan) -> None:
    out = decide("no_action", tiny_log, "1997-06-30", simulator=str(tiny_gan), explain=False)
    cid = out["customer_id"].iloc[0]
    last = tiny_log.loc[tiny_log["customer_id"] == cid, "timestamp"].max()
    weeks_since = (pd.Timestamp("1997-06-30") - last).days // 7
    assert abs(out["recency_weeks"].iloc[0] - weeks_since) <= 1
    assert (out["action"] == "none").all()


def test_decide_trained_model_explains(tiny_log, tiny_gan, tiny_agent) -> None:
    out = decide(f"model:{tiny_agent}", tiny_log, "1997-06-30", simulator=str(tiny_gan),
                 env_config={"horizon": 8, "window": 4})
    assert out["why"].str.contains(r"(?:profile|history):").all()
    assert np.isfinite(out["expected_profit"]).all()


def test_decide_cli_writes_csv_and_rejects_bad_date(tmp_path: Path, tiny_log, tiny_gan, capsys) -> None:
    log = tmp_path / "log.csv"
    tiny_log.to_csv(log, index=False)
    out = tmp_path / "actions.csv"
    args = ["decide", "--policy", "rfm_rule", "--data", str(log), "--simulator", str(tiny_gan),
            "--out", str(out)]
    assert main([*args, "--as-of", "1997-07-01"]) == 0
    assert len(pd.read_csv(out)) == tiny_log["customer_id"].nunique()
    out.unlink()
    assert main([*args, "--as-of", "yesterday-ish"]) == 2
    assert "--as-of" in capsys.readouterr().err
    assert not out.exists()


def test_decide_before_any_transaction(tiny_log, tiny_gan) -> None:
    with pytest.raises(DataError, match="no transactions on or before"):
        decide("no_action", tiny_log, "1990-01-01", simulator=str(tiny_gan))
