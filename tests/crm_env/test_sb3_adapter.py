"""The SB3 adapter: terminal observations, time-limit flags, monitors, and PPO on top."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from crm_env import CRMVectorEnv, SB3VecEnv, make_vec_env
from gan_simulator.errors import EnvArgumentError


def test_terminal_observation_and_time_limit_flags() -> None:
    raw = CRMVectorEnv(num_envs=256, simulator="structural", seed=3, horizon=12)
    venv = SB3VecEnv(raw)
    venv.reset()
    weeks_left = raw.layout.profile_index("weeks_left")
    opted_out = raw.layout.profile_index("opted_out")
    saw_termination = saw_truncation = False
    for _ in range(12):
        obs, rewards, dones, infos = venv.step(np.full(256, 1))  # e-mail every week
        assert rewards.dtype == np.float32 and rewards.shape == (256,)
        for i in np.flatnonzero(dones):
            final = infos[i]["terminal_observation"]
            if infos[i]["TimeLimit.truncated"]:
                saw_truncation = True
                assert final["profile"][weeks_left] == 0  # bootstrap from here
            else:
                saw_termination = True
                assert final["profile"][opted_out] == 1
            assert obs["profile"][i, weeks_left] == 12  # next customer already there
        for i in np.flatnonzero(~dones):
            assert infos[i] == {}
    assert saw_termination and saw_truncation


def test_vec_monitor_reports_episode_returns() -> None:
    venv = make_vec_env("structural", num_envs=4, seed=0, config={"horizon": 5})
    assert isinstance(venv, VecMonitor)
    venv.reset()
    total = np.zeros(4)
    for _ in range(5):
        _, rewards, dones, infos = venv.step(np.zeros(4, dtype=np.int64))
        total += rewards
    assert dones.all()
    for i in range(4):
        assert infos[i]["episode"]["l"] == 5
        assert infos[i]["episode"]["r"] == pytest.approx(total[i], abs=1e-4)


def test_seed_through_sb3_is_the_root_seed() -> None:
    a = make_vec_env("structural", num_envs=3, monitor=False)
    a.seed(17)
    b = CRMVectorEnv(num_envs=3, simulator="structural", seed=17)
    np.testing.assert_array_equal(a.reset()["profile"], b.reset()[0]["profile"])


def test_attributes_reach_the_agents_through_wrappers(tmp_path) -> None:
    from crm_env import EpisodeRecorder

    venv = VecNormalize(
        make_vec_env("structural", num_envs=2, seed=0, record_path=tmp_path / "x.parquet")
    )
    venv.reset()
    assert venv.catalog.names[1] == "email"
    assert venv.layout.profile_index("recency_weeks") == 3
    p, _ = venv.simulator.expected_week(venv.sim_state, np.zeros(2, dtype=np.int64))
    assert p.shape == (2,)
    assert venv.get_attr("week") == [0, 0]
    assert venv.env_is_wrapped(EpisodeRecorder) == [True, True]
    venv.close()


def test_adapter_rejects_next_step_autoreset_envs() -> None:
    import gymnasium as gym

    sync = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(EnvArgumentError, match="SAME_STEP"):
        SB3VecEnv(sync)


def test_ppo_multi_input_policy_trains_a_few_hundred_steps(tmp_path) -> None:
    torch.set_num_threads(1)
    venv = VecNormalize(
        make_vec_env("structural", num_envs=8, seed=0, horizon=10, record_path=tmp_path / "r.parquet")
    )
    model = PPO("MultiInputPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0,
                policy_kwargs={"net_arch": [32]})
    model.learn(total_timesteps=512)
    assert model.num_timesteps == 512
    assert len(model.ep_info_buffer) >= 8 * 4  # horizon 10, 64 steps per env
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (8,) and set(actions.tolist()) <= set(range(5))
    venv.close()
    from crm_env import load_episodes

    assert len(load_episodes(tmp_path / "r.parquet")) == 512
