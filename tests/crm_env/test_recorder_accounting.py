"""Money accounting and the episode log: what a strategist adds up must add up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_env import CRMVectorEnv, EpisodeRecorder, load_episodes
from crm_env.recorder import RECORDED_FEATURES
from crm_env.replay import read_metadata, summarise_episodes
from gan_simulator.errors import DataError


def _record(path: Path, steps: int = 30, n: int = 64, **kwargs) -> tuple[list, list]:
    env = EpisodeRecorder(
        CRMVectorEnv(num_envs=n, simulator="structural", seed=13, horizon=10, **kwargs),
        path,
        chunk_rows=100,  # several row groups
    )
    obs, _ = env.reset()
    seen, returned = [], []
    rng = np.random.default_rng(0)
    for _ in range(steps):
        actions = rng.integers(0, 5, n)
        seen.append((obs["profile"].copy(), actions))
        obs, reward, term, trunc, info = env.step(actions)
        returned.append((reward, term, trunc, info))
    env.close()
    return seen, returned


def test_rewards_equal_revenue_minus_costs_in_the_log(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    _, returned = _record(path)
    frame = load_episodes(path)
    costs = frame["cogs"] + frame["contact_cost"] + frame["incentive_cost"]
    np.testing.assert_allclose(frame["reward"].sum(), (frame["revenue"] - costs).sum(), rtol=1e-12)
    np.testing.assert_allclose(frame["reward"], frame["revenue"] - costs, atol=1e-9)
    direct = sum(float(r.sum()) for r, *_ in returned)
    np.testing.assert_allclose(frame["reward"].sum(), direct, rtol=1e-12)
    assert frame["purchased"].sum() > 0 and (frame["discount_cost"] > 0).any()


def test_costs_follow_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    _record(path)
    f = load_episodes(path)
    margin = read_metadata(path)["margin"]
    disc = f["action"].map({"discount_10": 0.10, "discount_25": 0.25}).astype(float).fillna(0.0)
    np.testing.assert_allclose(f["discount_cost"], disc * f["gross_spend"], atol=1e-9)
    np.testing.assert_allclose(f["revenue"], f["gross_spend"] - f["discount_cost"], atol=1e-9)
    np.testing.assert_allclose(
        f["reward"],
        margin * f["gross_spend"] - f["discount_cost"] - f["contact_cost"] - f["incentive_cost"],
        atol=1e-9,
    )
    contact = f["action"] != "none"
    assert np.all(f.loc[contact, "contact_cost"] == 0.10)
    assert np.all(f.loc[~contact, "contact_cost"] == 0.0)
    perk = f["action"] == "loyalty_perk"
    np.testing.assert_array_equal(f.loc[perk, "incentive_cost"], 2.0 * f.loc[perk, "purchased"])
    assert np.all(f.loc[~perk, "incentive_cost"] == 0.0)


def test_reward_scale_scales_rewards_not_dollars(tmp_path: Path) -> None:
    _record(tmp_path / "a.parquet")
    _record(tmp_path / "b.parquet", reward_scale=0.01)
    a, b = load_episodes(tmp_path / "a.parquet"), load_episodes(tmp_path / "b.parquet")
    np.testing.assert_allclose(b["reward"], 0.01 * a["reward"], atol=1e-12)
    pd.testing.assert_series_equal(a["revenue"], b["revenue"])


def test_recorder_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    seen, returned = _record(path, steps=25, n=16)
    frame = load_episodes(path)
    assert len(frame) == 25 * 16
    raw = pd.read_parquet(path)  # file order: step by step, slot by slot
    rewards = np.concatenate([r for r, *_ in returned])
    np.testing.assert_array_equal(raw["reward"].to_numpy(), rewards)
    np.testing.assert_array_equal(raw["action"].to_numpy(), np.concatenate([a for _, a in seen]))
    np.testing.assert_array_equal(
        raw["gross_spend"].to_numpy(), np.concatenate([i["gross_spend"] for *_, i in returned])
    )
    profile_idx = [
        CRMVectorEnv(1, "structural").layout.profile_index(name) for name in RECORDED_FEATURES
    ]
    before = np.concatenate([p[:, profile_idx] for p, _ in seen])
    np.testing.assert_array_equal(raw[list(RECORDED_FEATURES)].to_numpy(), before)
    # episodes: every truncated episode has 10 weeks numbered 0..9
    summary = summarise_episodes(frame)
    full = summary[summary["truncated"]]
    assert len(full) > 0 and np.all(full["weeks"] == 10)
    weeks = frame[frame["episode_id"] == full["episode_id"].iloc[0]]["week"].to_numpy()
    np.testing.assert_array_equal(weeks, np.arange(10))
    assert list(frame["action"].cat.categories) == [
        "none", "email", "discount_10", "discount_25", "loyalty_perk"
    ]
    assert read_metadata(path)["simulator_fingerprint"]


def test_recorder_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    env = EpisodeRecorder(CRMVectorEnv(4, "structural", seed=0), path, chunk_rows=4)
    env.reset()
    for _ in range(3):
        env.step(np.zeros(4, dtype=np.int64))
    assert not path.exists()  # chunks go to a temporary file until close
    env.close()
    assert len(load_episodes(path)) == 12
    failed = tmp_path / "failed.parquet"
    with pytest.raises(RuntimeError), EpisodeRecorder(CRMVectorEnv(4, "structural"), failed) as rec:
        rec.reset()
        rec.step(np.zeros(4, dtype=np.int64))
        raise RuntimeError("policy crashed")
    assert not failed.exists() and list(tmp_path.glob(".failed*")) == []


def test_empty_log_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    EpisodeRecorder(CRMVectorEnv(2, "structural", seed=0), path).close()
    assert len(load_episodes(path)) == 0


def test_load_episodes_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_episodes(tmp_path / "missing.parquet")
    other = tmp_path / "other.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(other)
    with pytest.raises(DataError, match="not a crmgym episode log"):
        load_episodes(other)
