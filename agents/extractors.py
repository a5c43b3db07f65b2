"""Feature extractors over the CRM observation: weekly history plus a static profile.

The environment observes each customer as a ``Dict`` with two entries:

==========  ==============  ===========================================================
key         shape           content
==========  ==============  ===========================================================
history     ``[W, F]``      the last ``W`` weeks, oldest first, ``F`` features per week
profile     ``[P]``         static attributes, recency, frequency, monetary value, ...
==========  ==============  ===========================================================

:class:`HistoryCNN` reads the weeks with a 1-D convolution (the features are the channels);
:class:`HistoryGRU` runs a GRU over the weeks and keeps its last hidden state. Both feed the
profile through a small MLP and mix the two summaries into ``features_dim`` numbers. They are
SB3 ``BaseFeaturesExtractor`` subclasses, handed to an algorithm through ``policy_kwargs``
(see :mod:`agents.factory`).

Money features span several orders of magnitude, so by default the inputs pass through
``symlog(x) = sign(x) * log(1 + |x|)`` (Hafner et al., "Mastering Diverse Domains through
World Models", 2023), which keeps a $300 week from saturating the network while leaving
0/1 indicators almost unchanged.

>>> import numpy as np
>>> from gymnasium import spaces
>>> space = spaces.Dict({
...     "history": spaces.Box(-np.inf, np.inf, (8, 4), np.float32),
...     "profile": spaces.Box(-np.inf, np.inf, (6,), np.float32)})
>>> ext = HistoryGRU(space, hidden_size=16, features_dim=32)
>>> obs = {"history": torch.zeros(3, 8, 4), "profile": torch.zeros(3, 6)}
>>> tuple(ext(obs).shape)
(3, 32)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from gan_simulator.errors import ConfigError, EnvArgumentError

__all__ = ["HistoryCNN", "HistoryGRU", "check_observation_space", "symlog"]


def symlog(x: torch.Tensor) -> torch.Tensor:
    """``sign(x) * log1p(|x|)``: compresses large magnitudes, keeps sign and zero."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


def check_observation_space(space: spaces.Space) -> tuple[int, int, int]:
    """Check that ``space`` is the CRM ``Dict`` observation and return ``(W, F, P)``.

    Raises:
        EnvArgumentError: when the space is not a ``Dict`` with a 2-D ``history`` Box and a
            1-D ``profile`` Box.
    """
    if not isinstance(space, spaces.Dict):
        raise EnvArgumentError(
            f"history extractors need a Dict observation with 'history' and 'profile', got "
            f"{type(space).__name__}; use the crm_env environment or pick a plain MLP policy"
        )
    missing = [k for k in ("history", "profile") if k not in space.spaces]
    if missing:
        raise EnvArgumentError(
            f"observation space lacks key(s) {missing} (it has {sorted(space.spaces)}); "
            "history extractors need 'history' [W, F] and 'profile' [P]"
        )
    hist, prof = space["history"], space["profile"]
    if not isinstance(hist, spaces.Box) or len(hist.shape) != 2:
        raise EnvArgumentError(
            f"observation 'history' must be a 2-D Box [weeks, features], got {hist}"
        )
    if not isinstance(prof, spaces.Box) or len(prof.shape) != 1:
        raise EnvArgumentError(f"observation 'profile' must be a 1-D Box [features], got {prof}")
    weeks, features = hist.shape
    if weeks < 1 or features < 1:
        raise EnvArgumentError(f"observation 'history' has an empty shape {hist.shape}")
    return int(weeks), int(features), int(prof.shape[0])


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"extractor setting {name}={value!r} must be a positive integer")
    return value


def _profile_mlp(profile_dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(profile_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())


class HistoryCNN(BaseFeaturesExtractor):
    """Conv1d over the weeks of ``history`` (features as channels) plus an MLP over ``profile``.

    Args:
        observation_space: The env's ``Dict`` observation space.
        channels: Output channels of each convolution layer, e.g. ``(32, 32)``.
        kernel_size: Width in weeks of every convolution kernel (at most ``W``).
        profile_hidden: Width of the profile MLP.
        features_dim: Size of the output vector handed to the policy and value heads.
        use_symlog: Compress inputs with :func:`symlog` first.

    Raises:
        EnvArgumentError: when the observation space does not fit (see
            :func:`check_observation_space`) or ``kernel_size`` exceeds the history length.
        ConfigError: for non-positive sizes.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        channels: Sequence[int] = (32, 32),
        kernel_size: int = 3,
        profile_hidden: int = 64,
        features_dim: int = 128,
        use_symlog: bool = True,
    ) -> None:
        weeks, n_features, profile_dim = check_observation_space(observation_space)
        channels = tuple(_positive("channels[]", int(c)) for c in channels)
        if not channels:
            raise ConfigError("extractor setting channels=[] must list at least one layer width")
        _positive("kernel_size", kernel_size)
        _positive("profile_hidden", profile_hidden)
        _positive("features_dim", features_dim)
        if kernel_size > weeks:
            raise EnvArgumentError(
                f"HistoryCNN kernel_size={kernel_size} is longer than the {weeks}-week history; "
                f"use kernel_size <= {weeks} or a longer env history window"
            )
        super().__init__(observation_space, features_dim)
        self.use_symlog = use_symlog
        layers: list[nn.Module] = []
        in_ch = n_features
        for out_ch in channels:
            # "same" padding keeps one output per week, so the newest week stays in view.
            layers += [nn.Conv1d(in_ch, out_ch, kernel_size, padding="same"), nn.ReLU()]
            in_ch = out_ch
        self.conv = nn.Sequential(*layers)
        self.profile = _profile_mlp(profile_dim, profile_hidden)
        # Mean over all weeks plus the newest week: a long-run summary and the latest state.
        self.head = nn.Sequential(nn.Linear(2 * in_ch + profile_hidden, features_dim), nn.ReLU())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """Map a batch of observations to ``[batch, features_dim]`` features."""
        hist, prof = observations["history"], observations["profile"]
        if self.use_symlog:
            hist, prof = symlog(hist), symlog(prof)
        h = self.conv(hist.transpose(1, 2))  # [B, C, W]
        summary = torch.cat([h.mean(dim=2), h[:, :, -1], self.profile(prof)], dim=1)
        return self.head(summary)


class HistoryGRU(BaseFeaturesExtractor):
    """A GRU over the weeks of ``history`` plus an MLP over ``profile``.

    The GRU reads the window oldest week first and its final hidden state summarises the
    customer's recent trajectory. (Memory *across* env steps is RecurrentPPO's job; this
    GRU only reads the window the observation already holds.)

    Args:
        observation_space: The env's ``Dict`` observation space.
        hidden_size: GRU hidden units.
        num_layers: Stacked GRU layers.
        profile_hidden: Width of the profile MLP.
        features_dim: Size of the output vector handed to the policy and value heads.
        use_symlog: Compress inputs with :func:`symlog` first.

    Raises:
        EnvArgumentError: when the observation space does not fit.
        ConfigError: for non-positive sizes.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        hidden_size: int = 64,
        num_layers: int = 1,
        profile_hidden: int = 64,
        features_dim: int = 128,
        use_symlog: bool = True,
    ) -> None:
        _, n_features, profile_dim = check_observation_space(observation_space)
        for name, value in (
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
            ("profile_hidden", profile_hidden),
            ("features_dim", features_dim),
        ):
            _positive(name, value)
        super().__init__(observation_space, features_dim)
        self.use_symlog = use_symlog
        self.gru = nn.GRU(n_features, hidden_size, num_layers=num_layers, batch_first=True)
        self.profile = _profile_mlp(profile_dim, profile_hidden)
        self.head = nn.Sequential(nn.Linear(hidden_size + profile_hidden, features_dim), nn.ReLU())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """Map a batch of observations to ``[batch, features_dim]`` features."""
        hist, prof = observations["history"], observations["profile"]
        if self.use_symlog:
            hist, prof = symlog(hist), symlog(prof)
        _, h_n = self.gru(hist)  # h_n: [layers, B, H]
        return self.head(torch.cat([h_n[-1], self.profile(prof)], dim=1))
