"""Critics (Wasserstein discriminators) for WGAN-GP training.

Two critics, as in DoppelGANger: an *attribute critic* scores profiles alone, and a
*sequence critic* scores a profile together with the whole weekly sequence and its actions.
The sequence critic reads the weeks twice — local patterns through a Conv1d stack, order and
long gaps through a GRU — and combines both with the profile. No normalisation layers are
used, since the per-sample gradient penalty of WGAN-GP (Gulrajani et al., 2017) assumes the
critic treats each sample independently.
"""

from __future__ import annotations

import torch
from torch import nn


class AttributeCritic(nn.Module):
    """Profile ``[B, P]`` -> score ``[B]``."""

    def __init__(self, profile_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(profile_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, profile: torch.Tensor) -> torch.Tensor:
        """Scores, one per profile."""
        return self.net(profile).squeeze(-1)


class SequenceCritic(nn.Module):
    """(profile ``[B,P]``, sequence ``[B,L,C]``) -> score ``[B]``.

    The sequence channels are the weekly inputs, the action one-hot and the observation mask
    (weeks after the end of the record are zero with mask 0).

    Args:
        profile_dim: Width of the profile.
        channels: Channels per week.
        hidden: Width of the conv and GRU branches.
    """

    def __init__(self, profile_dim: int, channels: int, hidden: int = 32) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(channels, hidden, kernel_size=5, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, hidden, kernel_size=5, padding=2), nn.LeakyReLU(0.2),
        )
        self.gru = nn.GRU(channels, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(3 * hidden + profile_dim, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, profile: torch.Tensor, seq: torch.Tensor) -> torch.Tensor:
        """Scores, one per customer."""
        c = self.conv(seq.transpose(1, 2))
        pooled = torch.cat([c.mean(dim=2), c.amax(dim=2)], dim=1)
        _, h = self.gru(seq)
        return self.head(torch.cat([pooled, h[-1], profile], dim=1)).squeeze(-1)
