"""Session-scoped GAN artefacts: a tiny panel and one GAN trained on it once (about a second).

Every test in this folder runs with one torch thread (the CI machine has two cores).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_simulator.configuration import from_mapping
from gan_simulator.data import CustomerPanel, build_panel, load_cdnow
from gan_simulator.simulator import GANSimulator
from gan_simulator.training import GanConfig, TrainResult, train_gan

TINY_GAN: dict = {
    "model": {"hidden": 8, "head_hidden": 8, "attribute_hidden": 8, "critic_hidden": 8},
    "train": {"epochs": 1, "batch_size": 128, "warmup_epochs": 0},
}
"""Network sizes and schedule of the tiny GAN (one adversarial epoch)."""

TINY_CUSTOMERS = 300
TINY_WEEKS = 39


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    with torch_threads(1):
        yield


@dataclass(frozen=True)
class TinyRun:
    """A finished tiny training run.

    Attributes:
        panel: The training panel.
        config: The configuration it was trained with.
        out: The run folder.
        result: What ``train_gan`` returned.
    """

    panel: CustomerPanel
    config: GanConfig
    out: Path
    result: TrainResult

    @property
    def checkpoint(self) -> Path:
        """The run's ``simulator.safetensors``."""
        return Path(self.result.checkpoint)


@pytest.fixture(scope="session")
def cdnow_panel() -> CustomerPanel:
    """The bundled CDNOW log as a weekly panel (23,570 customers x 78 weeks)."""
    return build_panel(load_cdnow())


@pytest.fixture(scope="session")
def tiny_panel(cdnow_panel: CustomerPanel) -> CustomerPanel:
    """The first 300 CDNOW customers over the first 39 weeks (all acquired by week 12)."""
    panel = cdnow_panel.subset(np.arange(TINY_CUSTOMERS)).time_slice(0, TINY_WEEKS)
    assert panel.mask.any(axis=1).all()
    return panel


@pytest.fixture(scope="session")
def tiny_config() -> GanConfig:
    """:data:`TINY_GAN` as a config."""
    return from_mapping(GanConfig, TINY_GAN)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_panel: CustomerPanel,
             tiny_config: GanConfig) -> TinyRun:
    """One epoch of GAN training on :func:`tiny_panel`; treat the folder as read-only."""
    out = tmp_path_factory.mktemp("tiny_gan")
    with torch_threads(1):
        result = train_gan(tiny_panel, tiny_config, out, progress=False)
    return TinyRun(tiny_panel, tiny_config, out, result)


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_run: TinyRun) -> Path:
    """The tiny run's ``simulator.safetensors``."""
    return tiny_run.checkpoint


@pytest.fixture(scope="session")
def tiny_sim(tiny_checkpoint: Path) -> GANSimulator:
    """The tiny checkpoint loaded as a :class:`~gan_simulator.simulator.GANSimulator`."""
    return GANSimulator.load(tiny_checkpoint)
