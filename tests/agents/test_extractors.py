"""HistoryCNN / HistoryGRU: output shapes, gradients to every weight, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.extractors import HistoryCNN, HistoryGRU
from crm_env import ObservationLayout
from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import ConfigError, EnvArgumentError


@pytest.fixture(scope="module")
def space() -> spaces.Dict:
    layout = ObservationLayout(ActionCatalog.default().names, ("first_spend",), window=6)
    return layout.observation_space()


def _batch(space: spaces.Dict, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.rand((n, *s.shape), generator=g) * 5 for k, s in space.spaces.items()}


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (HistoryCNN, {"channels": (8, 4), "kernel_size": 3, "profile_hidden": 8, "features_dim": 12}),
        (HistoryGRU, {"hidden_size": 8, "num_layers": 2, "profile_hidden": 8, "features_dim": 12}),
    ],
)
def test_output_shape_and_gradients_reach_every_weight(cls, kwargs, space):
    torch.manual_seed(0)
    ext = cls(space, **kwargs)
    out = ext(_batch(space, 5))
    assert out.shape == (5, 12)
    assert ext.features_dim == 12
    out.pow(2).sum().backward()
    for name, param in ext.named_parameters():
        assert param.grad is not None, name
        assert torch.count_nonzero(param.grad) > 0, f"no gradient reaches {name}"


@pytest.mark.parametrize("cls", [HistoryCNN, HistoryGRU])
def test_history_matters(cls, space):
    """Changing only the newest week changes the features: the extractor reads the history."""
    torch.manual_seed(1)
    ext = cls(space, features_dim=16)
    obs = _batch(space, 3)
    other = {k: v.clone() for k, v in obs.items()}
    other["history"][:, -1, :] += 3.0
    assert not torch.allclose(ext(obs), ext(other))


def test_wrong_observation_spaces_raise_env_argument_error(space):
    box = spaces.Box(0, 1, (4,), np.float32)
    with pytest.raises(EnvArgumentError, match="Dict observation"):
        HistoryGRU(box)
    with pytest.raises(EnvArgumentError, match="lacks key"):
        HistoryCNN(spaces.Dict({"history": space["history"]}))
    with pytest.raises(EnvArgumentError, match="2-D Box"):
        HistoryGRU(spaces.Dict({"history": box, "profile": space["profile"]}))
    with pytest.raises(EnvArgumentError, match="kernel_size=7 is longer than the 6-week history"):
        HistoryCNN(space, kernel_size=7)


def test_bad_sizes_raise_config_error(space):
    with pytest.raises(ConfigError, match="hidden_size=0"):
        HistoryGRU(space, hidden_size=0)
    with pytest.raises(ConfigError, match="at least one layer"):
        HistoryCNN(space, channels=())
