"""Shared, session-scoped artefacts: a tiny GAN and a tiny agent trained on it (seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_simulator.data import build_panel, load_cdnow

TINY_GAN = {
    "model": {"hidden": 8, "head_hidden": 8, "attribute_hidden": 8, "critic_hidden": 8},
    "train": {"epochs": 1, "batch_size": 128, "warmup_epochs": 0},
}


@pytest.fixture(scope="session")
def tiny_log():
    """The first 300 CDNOW customers, canonical schema."""
    log = load_cdnow()
    ids = sorted(log["customer_id"].unique())[:300]
    return log[log["customer_id"].isin(ids)].reset_index(drop=True)


@pytest.fixture(scope="session")
def tiny_gan(tmp_path_factory, tiny_log) -> Path:
    """Checkpoint of a GAN trained one epoch on ``tiny_log``'s first 39 weeks."""
    from gan_simulator.configuration import from_mapping
    from gan_simulator.training.config import GanConfig
    from gan_simulator.training.loop import train_gan

    panel = build_panel(tiny_log).time_slice(0, 39)
    out = tmp_path_factory.mktemp("tiny_gan")
    result = train_gan(panel, from_mapping(GanConfig, TINY_GAN), out, progress=False)
    return Path(result.checkpoint)


@pytest.fixture(scope="session")
def tiny_agent(tmp_path_factory, tiny_gan) -> Path:
    """``final_model`` folder of a smoke PPO+GRU agent trained on ``tiny_gan``."""
    import yaml

    from experiments.config import load_config
    from experiments.training import train

    raw = yaml.safe_load((Path(__file__).parents[2] / "experiments/configs/smoke.yaml").read_text())
    raw["simulator"] = {"kind": "gan", "checkpoint": str(tiny_gan)}
    raw["evaluation"]["final_customers"] = 0
    run = tmp_path_factory.mktemp("tiny_agent") / "run"
    train(load_config(raw), run)
    return run / "final_model"
