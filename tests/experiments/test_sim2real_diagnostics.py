"""``experiments.sim2real_diagnostics``: the truth's headroom and the two worlds' levels."""

from __future__ import annotations

import json
from pathlib import Path

from experiments.sim2real import load_sim2real_config
from experiments.sim2real_diagnostics import headroom, main

CONFIGS = Path(__file__).parents[2] / "experiments" / "configs"


def test_headroom_pairs_every_reference_policy_against_no_action() -> None:
    config = load_sim2real_config(CONFIGS / "sim2real_tiny.yaml")
    rows = {r["policy"]: r for r in headroom(config, customers=200, seed=3)}
    assert len(rows) == 5 + 36  # no_action, rfm_rule, myopic_uplift, oracle, latent + 36 rules
    assert rows["no_action"]["gain"] == 0.0 and rows["no_action"]["contacts"] == 0.0
    assert rows["latent_email"]["contacts"] > 0
    for r in rows.values():
        assert r["ci_low"] <= r["gain"] <= r["ci_high"]
    # e-mailing every 2nd week contacts more than every 4th week, for the same customers
    assert rows["obs_r99f1e2"]["contacts"] > rows["obs_r99f1e4"]["contacts"]


def test_levels_compare_the_worlds_under_both_policies(tmp_path: Path) -> None:
    from gan_simulator.simulator import DEFAULT_CHECKPOINT

    out = tmp_path / "levels.json"
    assert main(["levels", str(DEFAULT_CHECKPOINT), "--config", str(CONFIGS / "sim2real_tiny.yaml"),
                 "--customers", "100", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert {(r["world"], r["policy"]) for r in rows} == {
        (w, p) for w in ("truth", "gan") for p in ("no_action", "logging_policy")}
    for r in rows:
        assert 0.0 <= r["repeat_share"] <= 1.0 and r["purchase_weeks"] >= r["repeat_share"]
