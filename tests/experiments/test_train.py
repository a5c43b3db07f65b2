"""`crmgym train` end to end on smoke.yaml, interruption and --resume, run-folder errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from experiments.cli import main
from experiments.config import load_config
from experiments.training import CheckpointCallback, latest_checkpoint, train

SMOKE = Path(__file__).resolve().parents[2] / "experiments" / "configs" / "smoke.yaml"


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_smoke_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--config", str(SMOKE), "--out", str(out), "--seed", "3"]) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["total_timesteps"] == 512 and summary["seed"] == 3
    final = summary["final_evaluation"]
    assert final["n_customers"] == 64 and final["baseline_name"] == "no_action"
    for key in ("profit_per_customer", "revenue_per_customer", "incentive_cost_per_customer",
                "contacts_per_customer", "purchase_rate", "share_active_at_end",
                "profit_diff_ci_low", "profit_diff_ci_high"):
        assert key in final["agent"], key
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["training"]["seed"] == 3 and resolved["env"]["horizon"] == 8
    run = json.loads((out / "run.json").read_text())
    assert run["versions"]["stable_baselines3"] and run["simulator_fingerprint"]
    assert (out / "final_model" / "policy.safetensors").is_file()
    assert list((out / "tensorboard").rglob("events.out.tfevents*"))
    evaluations = json.loads((out / "evaluations.json").read_text())
    assert [e["step"] for e in evaluations][:2] == [256, 512]
    # best_model/ holds the policy of the best periodic evaluation, loadable like the final one
    periodic = [e for e in evaluations if e["n_customers"] == 32]
    best = max(periodic, key=lambda e: e["agent"]["profit_per_customer"])
    assert summary["best_periodic_profit_per_customer"] == best["agent"]["profit_per_customer"]
    assert summary["best_model"] == str(out / "best_model")
    meta = json.loads((out / "best_model" / "model.json").read_text())
    assert meta["extra"]["step"] == best["step"]
    assert "paired difference" in capsys.readouterr().out
    # The run folder is taken now: a second run without --resume is refused with exit code 2.
    assert main(["train", "--config", str(SMOKE), "--out", str(out)]) == 2
    assert "pass --resume" in capsys.readouterr().err


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_continues_from_the_last_checkpoint(tmp_path, monkeypatch):
    config = load_config(SMOKE)
    out = tmp_path / "run"
    original = CheckpointCallback._on_step

    def crash_after_first_checkpoint(self):
        keep_going = original(self)
        if self.num_timesteps > 300:
            raise _Interrupt("killed")
        return keep_going

    monkeypatch.setattr(CheckpointCallback, "_on_step", crash_after_first_checkpoint)
    with pytest.raises(_Interrupt):
        train(config, out)
    monkeypatch.setattr(CheckpointCallback, "_on_step", original)
    ckpt = latest_checkpoint(out)
    assert ckpt is not None and ckpt.name == "step_000000000256"
    assert not (out / "train_summary.json").exists()

    result = train(config, out, resume=True)
    assert result.summary["resumed_from_step"] == 256
    assert result.summary["total_timesteps"] == 512
    progress = json.loads((latest_checkpoint(out) / "progress.json").read_text())
    assert progress["num_timesteps"] == 512
    run = json.loads((out / "run.json").read_text())
    assert [r["start_steps"] for r in run["resumes"]] == [256]


def test_resume_errors_name_the_fix(tmp_path, capsys):
    empty = tmp_path / "empty"
    assert main(["train", "--config", str(SMOKE), "--out", str(empty), "--resume"]) == 2
    assert "holds no checkpoint" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
