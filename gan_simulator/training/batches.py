"""Panels -> aligned tensors the GAN trains on.

Customers join at different weeks. The generator models a customer's life from the
acquisition week on, so each history is shifted left until position 0 is the first observed
week (``aligned[i, j] = panel[i, first_i + j]``); positions past the end of the record are
marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_simulator.models.features import FeatureTransform


@dataclass(frozen=True)
class AlignedHistory:
    """Aligned per-customer tensors.

    Attributes:
        profile: ``float32[N, P]`` standardised profile.
        weeks: ``float32[N, L, 4]`` generator inputs per week (see ``FeatureTransform.week_inputs``).
        count: ``float32[N, L]`` observed counts (0 = no purchase).
        spend: ``float32[N, L]`` standardised log-spend.
        actions: ``int64[N, L]`` action codes.
        valid: ``bool[N, L]`` observed weeks.
        first: ``int64[N]`` panel period of position 0.
        gap_end: ``int64[N]`` weeks from the last event to the end of each record.
    """

    profile: torch.Tensor
    weeks: torch.Tensor
    count: torch.Tensor
    spend: torch.Tensor
    actions: torch.Tensor
    valid: torch.Tensor
    first: np.ndarray
    gap_end: np.ndarray

    def __len__(self) -> int:
        return int(self.profile.shape[0])

    def rows(self, index: torch.Tensor | np.ndarray) -> AlignedHistory:
        """The customers at ``index``, trimmed to their longest record."""
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        valid = self.valid[idx]
        length = max(int(valid.sum(dim=1).max()), 1)
        return AlignedHistory(
            profile=self.profile[idx], weeks=self.weeks[idx, :length],
            count=self.count[idx, :length], spend=self.spend[idx, :length],
            actions=self.actions[idx, :length], valid=valid[:, :length],
            first=self.first[np.asarray(index)], gap_end=self.gap_end[np.asarray(index)],
        )

    def to(self, device: torch.device | str) -> AlignedHistory:
        """Copy the tensors to ``device``."""
        return AlignedHistory(
            self.profile.to(device), self.weeks.to(device), self.count.to(device),
            self.spend.to(device), self.actions.to(device), self.valid.to(device), self.first,
            self.gap_end)


def align_history(transform: FeatureTransform, static: np.ndarray, count: np.ndarray,
                  spend: np.ndarray, actions: np.ndarray, mask: np.ndarray,
                  contact_events: bool = True) -> AlignedHistory:
    """Align raw ``[N, T]`` histories on each customer's first observed week.

    Args:
        transform: Fitted feature transform.
        static: ``[N, S]`` static columns.
        count: ``[N, T]`` weekly counts (purchase days).
        spend: ``[N, T]`` weekly spend in dollars.
        actions: ``[N, T]`` action codes.
        mask: ``[N, T]`` observed weeks; each row needs at least one ``True``.
        contact_events: Whether contact weeks are events (restart the gap) as purchase weeks
            are; ``False`` for a generator with ``contact_pressure``.
    """
    mask = np.asarray(mask, dtype=bool)
    n, t = mask.shape
    first = np.argmax(mask, axis=1).astype(np.int64)
    length = t - int(first.min()) if n else 1
    pos = first[:, None] + np.arange(length)[None, :]
    inside = pos < t
    pos_c = np.minimum(pos, t - 1)
    rows = np.arange(n)[:, None]
    valid = inside & mask[rows, pos_c]
    c = np.where(valid, np.asarray(count, np.float32)[rows, pos_c], 0.0).astype(np.float32)
    s = np.where(valid, np.asarray(spend, np.float32)[rows, pos_c], 0.0).astype(np.float32)
    a = np.where(valid, np.asarray(actions)[rows, pos_c], 0).astype(np.int64)
    c = np.minimum(np.round(c), transform.max_count).astype(np.float32)
    event = valid & ((c > 0) | ((a != 0) & contact_events))
    event[:, 0] = True
    idx = np.arange(length)[None, :]
    last_event = np.maximum.accumulate(np.where(event, idx, -1), axis=1)
    gap = np.zeros((n, length), dtype=np.float32)
    gap[:, 1:] = idx[:, 1:] - last_event[:, :-1]
    weeks = transform.week_inputs(c, s, gap) * valid[..., None]
    last_valid = valid.sum(axis=1) - 1
    gap_end = last_valid - last_event[np.arange(n), np.maximum(last_valid, 0)]
    spend_std = transform.spend_forward(s) * (c > 0)
    profile = transform.profile_forward(static, np.maximum(c[:, 0], 1.0), s[:, 0])
    return AlignedHistory(
        profile=torch.from_numpy(profile), weeks=torch.from_numpy(weeks.astype(np.float32)),
        count=torch.from_numpy(c), spend=torch.from_numpy(spend_std.astype(np.float32)),
        actions=torch.from_numpy(a), valid=torch.from_numpy(valid), first=first,
        gap_end=gap_end.astype(np.int64),
    )
