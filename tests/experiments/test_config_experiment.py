"""Experiment configs: shipped files load; unknown keys and bad values name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.config import ExperimentConfig, load_config
from gan_simulator.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "experiments" / "configs"
SHIPPED = ("smoke", "ppo_cnn", "ppo_gru", "recurrent_ppo", "dqn_gru", "a2c_cnn")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_load(name):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.name == name
    assert cfg.agent.model_spec()["algorithm"] == cfg.agent.algorithm


def test_defaults_and_overrides():
    cfg = load_config({})
    assert (cfg.agent.algorithm, cfg.agent.extractor, cfg.env.horizon) == ("ppo", "gru", 52)
    changed = cfg.with_overrides(seed=7, device="cpu")
    assert (changed.training.seed, changed.training.device) == (7, "cpu")
    assert cfg.training.seed == 0  # frozen: the original is untouched
    with pytest.raises(ConfigError, match="training.seed=-1 must be a non-negative integer"):
        cfg.with_overrides(seed=-1)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"trainig": {}}, "unknown key 'trainig'.*allowed keys: name, data, simulator"),
        ({"training": {"num_envs": 0}}, r"training.num_envs=0 must be a positive integer"),
        ({"training": {"total_timesteps": "lots"}}, "total_timesteps: expected an integer, got 'lots'"),
        ({"training": {"device": "tpu"}}, "training.device='tpu'; choose auto, cpu, cuda"),
        ({"env": {"horizon": 0}}, "env.horizon=0 must be a positive number of weeks"),
        ({"simulator": {"kind": "markov"}}, "value 'markov' is not allowed; choose one of 'structural', 'gan'"),
        ({"simulator": {"kind": "structural", "checkpoint": "x"}}, "only used with kind 'gan'"),
        ({"agent": {"algorithm": "sac"}}, "unknown algorithm 'sac'; choose one of ppo, a2c, dqn, recurrent_ppo"),
        ({"agent": {"extractor": "transformer"}}, "unknown extractor 'transformer'; choose one of cnn, gru"),
        ({"agent": {"hyperparameters": {"lr": 0.1}}}, "unknown key 'lr' \\(value 0.1\\).*learning_rate"),
        ({"evaluation": {"n_customers": 0}}, "evaluation.n_customers=0 must be a positive integer"),
        ({"name": "my run"}, "name='my run' must be a plain label"),
        ({"training": {"max_wall_minutes": -1}}, "max_wall_minutes=-1.0 must be >= 0"),
    ],
)
def test_bad_settings_name_key_value_and_allowed(data, message):
    with pytest.raises(ConfigError, match=message):
        load_config(data)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
