"""Every algorithm x extractor trains a few hundred steps on the structural simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.factory import ALGORITHMS, EXTRACTORS, algorithm_info, build_model
from crm_env import make_vec_env
from gan_simulator.errors import ConfigError
from tests.agents.conftest import SMALL_ENV

SMALL_EXTRACTOR = {
    "cnn": {"channels": [8], "kernel_size": 3, "profile_hidden": 8, "features_dim": 16},
    "gru": {"hidden_size": 8, "profile_hidden": 8, "features_dim": 16},
}
SMALL_HYPER = {
    "ppo": {"n_steps": 16, "batch_size": 32, "n_epochs": 2},
    "a2c": {"n_steps": 8},
    "dqn": {"buffer_size": 500, "learning_starts": 32, "batch_size": 16, "train_freq": 2,
            "target_update_interval": 50},
    "recurrent_ppo": {"n_steps": 16, "batch_size": 32, "n_epochs": 2},
}
SMALL_POLICY = {"recurrent_ppo": {"lstm_hidden_size": 8, "net_arch": [16]}}


@pytest.mark.parametrize("extractor", ["cnn", "gru"])
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_each_algorithm_and_extractor_learns(algorithm, extractor):
    env = make_vec_env("structural", num_envs=4, seed=3, config=SMALL_ENV)
    model = build_model(env, algorithm, extractor, SMALL_EXTRACTOR[extractor],
                        SMALL_POLICY.get(algorithm, {"net_arch": [16]}), SMALL_HYPER[algorithm],
                        seed=0, device="cpu")
    extractors = [m for m in model.policy.modules() if isinstance(m, EXTRACTORS[extractor])]
    assert extractors, f"{algorithm} did not get the {extractor} extractor"
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(256)
    assert model.num_timesteps >= 256
    changed = [k for k, v in model.policy.state_dict().items()
               if "features_extractor" in k and not torch.equal(v, before[k])]
    assert changed, "training did not update the extractor's weights"
    obs = env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (4,) and np.all((actions >= 0) & (actions < 5))
    assert algorithm_info(algorithm).recurrent == (algorithm == "recurrent_ppo")


def test_unknown_names_and_keys_are_named():
    env = make_vec_env("structural", num_envs=2, seed=0, config=SMALL_ENV)
    with pytest.raises(ConfigError, match="unknown algorithm 'sac'; choose one of ppo, a2c"):
        build_model(env, "sac")
    with pytest.raises(ConfigError, match="unknown extractor 'lstm'"):
        build_model(env, "ppo", "lstm")
    with pytest.raises(ConfigError, match="unknown key 'n_step' .*allowed keys: .*n_steps"):
        build_model(env, "ppo", "gru", hyperparameters={"n_step": 8})
    with pytest.raises(ConfigError, match="'lstm_hidden_size'.*for algorithm 'ppo'"):
        build_model(env, "ppo", "gru", policy_kwargs={"lstm_hidden_size": 8})
    with pytest.raises(ConfigError, match="unknown key 'kernel_size'.*extractor 'gru'"):
        build_model(env, "ppo", "gru", extractor_kwargs={"kernel_size": 3})
