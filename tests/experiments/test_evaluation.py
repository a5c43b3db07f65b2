"""Evaluation: common random numbers, reproducibility, exact zero against itself, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.evaluation import KPIS, SEGMENTS, evaluate, rollout
from experiments.evaluation_report import write_evaluation

ENV = {"horizon": 8}


def test_same_seed_same_evaluation() -> None:
    a = evaluate("structural", {"none": "no_action", "rfm": "rfm_rule"}, customers=64, seed=3,
                 env_config=ENV, n_boot=100)
    b = evaluate("structural", {"none": "no_action", "rfm": "rfm_rule"}, customers=64, seed=3,
                 env_config=ENV, n_boot=100)
    assert a.summary == b.summary


def test_policy_against_itself_is_exactly_zero() -> None:
    ev = evaluate("structural", {"a": "always:email", "b": "always:email"}, customers=64, seed=1,
                  env_config=ENV, n_boot=100, baseline="a")
    d = ev.summary["paired"]["b"]["profit_per_customer"]
    assert (d["mean"], d["ci_low"], d["ci_high"]) == (0.0, 0.0, 0.0)


def test_common_random_numbers_same_customers_for_every_policy() -> None:
    # With no contact the customers' purchases are their own; two no-contact policies built
    # differently must see identical purchases customer by customer.
    a = rollout("structural", "no_action", 128, seed=9, env_config=ENV)
    b = rollout("structural", lambda env: _Zero(), 128, seed=9, env_config=ENV)
    np.testing.assert_array_equal(a.purchase_weeks, b.purchase_weeks)
    np.testing.assert_array_equal(a.profit, b.profit)


class _Zero:
    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.zeros(len(obs["profile"]), dtype=np.int64), None


def test_accounting_and_kpis() -> None:
    r = rollout("structural", "always:discount_10", 64, seed=2, env_config=ENV)
    assert np.all(r.contacts <= r.weeks)
    assert np.all(r.discount_cost >= 0) and r.discount_cost.sum() > 0
    assert r.action_counts.shape == (len(SEGMENTS), 5)
    assert r.action_counts.sum() == r.weeks.sum()
    for k in KPIS:
        assert r.kpi(k).shape == (64,)


def test_outputs_written(tmp_path: Path) -> None:
    ev = evaluate("structural", {"no_action": "no_action", "oracle": "oracle"}, customers=64,
                  seed=0, env_config=ENV, n_boot=100)
    paths = write_evaluation(ev, tmp_path)
    data = json.loads(paths["json"].read_text())
    for name in ("no_action", "oracle"):
        e = data["policies"][name]["profit_per_customer"]
        assert e["ci_low"] <= e["mean"] <= e["ci_high"]
        assert set(data["paired"][name]["profit_per_customer"]) >= {"mean", "ci_low", "ci_high"}
    for png in ("profit_per_policy.png", "cumulative_profit.png", "active_customers.png", "action_mix.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert "Headline" in paths["report"].read_text()


def test_cli_evaluate(tmp_path: Path) -> None:
    code = main(["evaluate", "--simulator", "structural", "--customers", "32", "--horizon", "4",
                 "--policies", "no_action,rfm_rule", "--bootstrap", "50", "--out", str(tmp_path)])
    assert code == 0
    assert "rfm_rule" in json.loads((tmp_path / "evaluation.json").read_text())["policies"]


@pytest.mark.parametrize("args, message", [
    (["--policies", "a=no_action,a=rfm_rule"], "given twice"),
    (["--baseline", "nope"], "not among the policies"),
    (["--customers", "1"], "at least 2"),
])
def test_cli_bad_arguments(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    code = main(["evaluate", "--simulator", "structural", "--out", str(tmp_path), *args])
    assert code == 2
    assert message in capsys.readouterr().err
