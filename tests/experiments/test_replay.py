"""Replay: export round trip, one customer's weeks, counterfactual twins aligned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crm_env.replay import customer_episode, load_episodes, summarise_episodes, twin
from experiments.cli import main
from experiments.replay_export import export_episodes
from gan_simulator.errors import DataError

ENV = {"horizon": 6}


def test_export_round_trip(tmp_path: Path) -> None:
    path = export_episodes("rfm_rule", tmp_path / "e.parquet", customers=10, seed=3,
                           simulator="structural", env_config=ENV)
    frame = load_episodes(path)
    first = frame[frame["episode"] == 0]
    assert first["slot"].nunique() == 10
    assert first.groupby("slot")["week"].max().max() <= 5
    assert (frame["why"] == "rule: rfm_rule").all()
    s = summarise_episodes(frame)
    assert np.isclose(s["reward"].sum(), frame["reward"].sum())


def test_twin_same_customer_same_luck(tmp_path: Path) -> None:
    a = load_episodes(export_episodes("no_action", tmp_path / "a.parquet", customers=8, seed=11,
                                      simulator="structural", env_config=ENV, explain=False))
    b = load_episodes(export_episodes("always:email", tmp_path / "b.parquet", customers=8, seed=11,
                                      simulator="structural", env_config=ENV, explain=False))
    t = twin(a, b, slot=2)
    assert len(t) == 6
    assert (t["action_a"] == "none").all() and (t["action_b"] == "email").all()
    # before the first action both see the same customer
    assert t.loc[0, "frequency_a"] == t.loc[0, "frequency_b"]
    assert np.allclose(t["reward_diff"], t["reward_b"] - t["reward_a"])


def test_twin_refuses_different_seeds(tmp_path: Path) -> None:
    a = load_episodes(export_episodes("no_action", tmp_path / "a.parquet", customers=4, seed=1,
                                      simulator="structural", env_config=ENV, explain=False))
    b = load_episodes(export_episodes("no_action", tmp_path / "b.parquet", customers=4, seed=2,
                                      simulator="structural", env_config=ENV, explain=False))
    with pytest.raises(DataError, match="same --seed"):
        twin(a, b, slot=0)


def test_customer_episode_unknown_slot(tmp_path: Path) -> None:
    frame = load_episodes(export_episodes("no_action", tmp_path / "a.parquet", customers=2, seed=1,
                                          simulator="structural", env_config=ENV, explain=False))
    assert list(customer_episode(frame, 1)["week"]) == list(range(6))
    with pytest.raises(DataError, match="no episode 0 for slot 9"):
        customer_episode(frame, 9)


def test_replay_cli(tmp_path: Path, capsys) -> None:
    out = tmp_path / "e.parquet"
    assert main(["replay", "export", "--policy", "myopic_uplift", "--customers", "5", "--seed", "2",
                 "--simulator", "structural", "--horizon", "4", "--out", str(out)]) == 0
    assert main(["replay", "show", str(out), "--slot", "1", "--twin", str(out)]) == 0
    assert "reward_di" in capsys.readouterr().out


def test_learned_policy_export_explains(tmp_path: Path, tiny_gan, tiny_agent) -> None:
    path = export_episodes(f"model:{tiny_agent}", tmp_path / "m.parquet", customers=4, seed=0,
                           simulator=str(tiny_gan), env_config={"horizon": 8, "window": 4})
    frame = load_episodes(path)
    assert frame["why"].str.contains("profile:|history:", regex=True).all()
