"""Save -> load gives identical actions; checkpoints load without pickle; clear errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import VecNormalize

from agents.factory import build_model
from agents.persistence import (
    ObsNormalizer,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)
from agents.policies import TrainedPolicy, load_policy
from crm_env import CRMVectorEnv, make_vec_env
from gan_simulator.errors import CheckpointError
from tests.agents.conftest import SMALL_ENV

SPEC = {
    "algorithm": "recurrent_ppo",
    "extractor": "gru",
    "extractor_kwargs": {"hidden_size": 8, "profile_hidden": 8, "features_dim": 16},
    "policy_kwargs": {"lstm_hidden_size": 8, "net_arch": [16]},
    "hyperparameters": {"n_steps": 16, "batch_size": 32, "n_epochs": 1},
}


def _trained(spec: dict, norm: bool = True):
    env = make_vec_env("structural", num_envs=4, seed=1, config=SMALL_ENV)
    vn = VecNormalize(env, norm_reward=False) if norm else None
    model = build_model(vn or env, seed=0, device="cpu", **spec)
    model.learn(128)
    return model, vn


@pytest.mark.parametrize("spec", [SPEC, {**SPEC, "algorithm": "ppo", "policy_kwargs": {},
                                          "extractor": "cnn", "extractor_kwargs": {"kernel_size": 3}}])
def test_save_load_gives_identical_actions(tmp_path, spec):
    model, vn = _trained(spec)
    save_model(model, tmp_path / "m", spec, ObsNormalizer.from_vecnormalize(vn))
    # The learned policy is judged on a fresh env of the same shape (different customers).
    env = CRMVectorEnv(num_envs=6, simulator="structural", config=SMALL_ENV, seed=9)
    original = TrainedPolicy(model, ObsNormalizer.from_vecnormalize(vn))
    loaded = load_policy(str(tmp_path / "m"), env)
    obs, _ = env.reset()
    state_a = state_b = None
    start = np.ones(6, dtype=bool)
    for _ in range(5):
        a, state_a = original.predict(obs, state_a, start, deterministic=True)
        b, state_b = loaded.predict(obs, state_b, start, deterministic=True)
        np.testing.assert_array_equal(a, b)
        obs, *_ = env.step(a)
        start = np.zeros(6, dtype=bool)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["model_spec"]["algorithm"] == spec["algorithm"]
    assert meta["obs_normalization"] is True


def test_checkpoint_restores_optimizer_counters_and_normalisation(tmp_path):
    model, vn = _trained(SPEC)
    save_checkpoint(model, tmp_path / "c", SPEC, vn)
    # Nothing in the folder is a pickle archive: tensors load with weights_only=True.
    assert not any(zipfile.is_zipfile(p) and p.suffix == ".zip" for p in (tmp_path / "c").iterdir())
    opt = torch.load(tmp_path / "c" / "optimizer.pth", weights_only=True)
    assert opt["state"], "optimiser moments were not saved"

    env = make_vec_env("structural", num_envs=4, seed=2, config=SMALL_ENV)
    vn2 = VecNormalize(env, norm_reward=False)
    restored, progress = load_checkpoint(tmp_path / "c", vn2, "cpu", vecnormalize=vn2)
    assert restored.num_timesteps == model.num_timesteps == progress["num_timesteps"]
    for key in ("history", "profile"):
        np.testing.assert_allclose(vn2.obs_rms[key].mean, vn.obs_rms[key].mean)
    a = model.policy.optimizer.state_dict()["state"]
    b = restored.policy.optimizer.state_dict()["state"]
    assert all(torch.equal(a[k]["exp_avg"], b[k]["exp_avg"]) for k in a)
    restored.learn(64, reset_num_timesteps=False)
    assert restored.num_timesteps > model.num_timesteps


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="holds no model.json"):
        load_model(tmp_path, observation_space=None, action_space=None)
    spec = {**SPEC, "algorithm": "ppo", "policy_kwargs": {}}
    model, _ = _trained(spec, norm=False)
    save_model(model, tmp_path / "m", spec)
    wider = CRMVectorEnv(num_envs=2, simulator="structural", config={**SMALL_ENV, "window": 6})
    with pytest.raises(CheckpointError, match="trained with observation_space"):
        load_policy(str(tmp_path / "m"), wider)
    with pytest.raises(CheckpointError, match="not a resume checkpoint"):
        load_checkpoint(tmp_path / "m", make_vec_env("structural", 4, 0, SMALL_ENV), "cpu")
