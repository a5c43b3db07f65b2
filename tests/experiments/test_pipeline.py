"""``crmgym run`` end to end on a smoke config: a tiny GAN trained now, a tiny agent, a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from experiments.cli import main
from experiments.pipeline import LEARNED, load_pipeline_config
from gan_simulator.data import load_cdnow
from gan_simulator.errors import ConfigError

SMOKE_AGENT = yaml.safe_load((Path(__file__).parents[2] / "experiments/configs/smoke.yaml").read_text())


def smoke_config(tmp_path: Path) -> Path:
    log = load_cdnow()
    ids = sorted(log["customer_id"].unique())[:400]
    small = log[log["customer_id"].isin(ids)]
    data = tmp_path / "log.csv"
    small.to_csv(data, index=False)
    experiment = {k: v for k, v in SMOKE_AGENT.items() if k != "simulator"}
    cfg = {
        "name": "smoke_pipeline",
        "data": str(data),
        "gan": {
            "source": "train",
            "calibration_periods": 39,
            "config": {"model": {"hidden": 8, "head_hidden": 8, "attribute_hidden": 8,
                                 "critic_hidden": 8},
                       "train": {"epochs": 1, "batch_size": 128, "warmup_epochs": 0}},
        },
        "experiment": experiment,
        "compare": {"customers": 32, "policies": ["no_action", "rfm_rule"], "bootstrap": 50},
    }
    path = tmp_path / "smoke_pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_run_smoke_end_to_end(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(smoke_config(tmp_path)), "--out", str(out)]) == 0
    summary = json.loads((out / "pipeline.json").read_text())
    assert set(summary["evaluation"]["policies"]) == {"no_action", "rfm_rule", LEARNED}
    assert summary["data"]["customers"] == 400
    report = (out / "report.md").read_text()
    assert "per customer" in report and LEARNED in report
    assert (out / "evaluation" / "profit_per_policy.png").is_file()
    assert str(out / "report.md") in capsys.readouterr().out


def test_quickstart_config_is_valid() -> None:
    cfg = load_pipeline_config(Path(__file__).parents[2] / "experiments/configs/quickstart.yaml")
    assert cfg.experiment.agent.extractor == "gru" and cfg.experiment.agent.algorithm == "ppo"


def test_unknown_key_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncompare: {customerz: 5}\n")
    with pytest.raises(ConfigError, match="customerz"):
        load_pipeline_config(bad)


def test_default_run_folder_never_reuses_a_finished_run(tmp_path: Path) -> None:
    """Running the main job twice keeps the first report and writes the second beside it."""
    from experiments.cli.run_cmd import fresh_run_folder

    base = tmp_path / "runs" / "quickstart"
    assert fresh_run_folder(base) == base
    base.mkdir(parents=True)
    assert fresh_run_folder(base) == base  # an empty or unfinished folder is reused
    (base / "pipeline.json").write_text("{}")
    second = fresh_run_folder(base)
    assert second == tmp_path / "runs" / "quickstart-2"
    second.mkdir()
    (second / "pipeline.json").write_text("{}")
    assert fresh_run_folder(base) == tmp_path / "runs" / "quickstart-3"
