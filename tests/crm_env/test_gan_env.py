"""The env on a real (tiny, quickly trained) GAN: ResponseModel effects, CRN, checkers.

The shipped default checkpoint is exercised in test_env_api/test_response when it exists;
here a one-epoch GAN on 400 CDNOW customers gives a real GANSimulator in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crm_env import CRMEnv, CRMVectorEnv
from crm_env.response import ResponsiveSimulator

training = pytest.importorskip("gan_simulator.training.loop", reason="GAN training not built yet")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from gan_simulator.data import build_panel, load_cdnow
    from gan_simulator.training.config import GanConfig, TrainConfig

    torch.set_num_threads(1)
    panel = build_panel(load_cdnow()).subset(np.arange(400))
    out = tmp_path_factory.mktemp("gan")
    cfg = GanConfig(train=TrainConfig(epochs=1, warmup_epochs=1, batch_size=128))
    return training.train_gan(panel, cfg, out, progress=False).checkpoint


def test_checkpoint_path_gives_gan_with_response_model(checkpoint: Path) -> None:
    env = CRMVectorEnv(num_envs=4, simulator=checkpoint, seed=0, horizon=3)
    assert isinstance(env.simulator, ResponsiveSimulator)
    assert env.metadata["simulator_fingerprint"] == env.simulator.fingerprint
    assert env.simulator.fingerprint != env.simulator.gan.fingerprint  # effects are part of it
    obs, _ = env.reset()
    for _ in range(7):  # two autoresets
        obs, reward, term, trunc, info = env.step(np.array([0, 1, 3, 4]))
        assert env.observation_space.contains(obs) and np.all(np.isfinite(reward))


def test_gan_env_passes_gymnasium_check_env(checkpoint: Path) -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(CRMEnv(simulator=str(checkpoint), seed=0, horizon=4), skip_render_check=True)


def test_discounts_raise_purchases_under_common_noise(checkpoint: Path) -> None:
    n = 2048
    bought = {}
    for code in (0, 3):
        env = CRMVectorEnv(num_envs=n, simulator=checkpoint, seed=7, horizon=4, opt_out="continue")
        env.reset()
        if code == 0:
            p0, _ = env.simulator.expected_week(env.sim_state, np.zeros(n, dtype=np.int64))
            p3, _ = env.simulator.expected_week(env.sim_state, np.full(n, 3))
            assert p3.mean() > p0.mean()
        bought[code] = sum(env.step(np.full(n, code))[4]["purchased"].sum() for _ in range(4))
    assert bought[3] > bought[0]


def test_same_seed_same_gan_episode(checkpoint: Path) -> None:
    runs = []
    for _ in range(2):
        env = CRMVectorEnv(num_envs=32, simulator=checkpoint, seed=3, horizon=5)
        obs, _ = env.reset()
        rewards = [env.step(np.arange(32) % 5)[1] for _ in range(6)]
        runs.append((obs["profile"], np.stack(rewards)))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
