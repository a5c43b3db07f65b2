"""A moving average of the generators' weights, the model that is evaluated and shipped.

GAN training does not converge to a point: the generator keeps circling around one, and the
weights at the end of any epoch are one sample of that orbit. Averaging the iterates is the
classic remedy (Polyak & Juditsky 1992; for GANs, Yazıcı et al., "The Unusual Effectiveness
of Averaging in GAN Training", ICLR 2019): an exponential moving average of the generator
weights, kept beside the trained ones and used for validation, early stopping and every
checkpoint a user loads. For this simulator it matters beyond sample quality: the long
holdout forecast moves by tens of percent from epoch to epoch while the validation likelihood
hardly changes (see ``gan_simulator/default/README.md``), and an average of the iterates does
not pick one point of that orbit by chance.

>>> import torch
>>> net = torch.nn.Linear(1, 1, bias=False)
>>> avg = WeightAverage({"net": net}, decay=0.5)
>>> with torch.no_grad():
...     _ = net.weight.fill_(1.0)
>>> avg.update()
>>> with avg.applied():
...     inside = float(net.weight.detach())
>>> float(net.weight.detach()) == 1.0 and inside < 1.0
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

PREFIX = "average"
"""Tensor-name prefix of the averaged weights inside a training checkpoint."""


class WeightAverage:
    """Exponential moving average of the parameters of some modules.

    The weight of the newest iterate starts high and settles at ``1 - decay``:
    ``d_n = min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the random
    initialisation is forgotten within the first few steps.

    Args:
        modules: Name -> module whose parameters are averaged.
        decay: Per-update decay in ``(0, 1)``; ``1 / (1 - decay)`` updates is the memory.
    """

    def __init__(self, modules: dict[str, nn.Module], decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay={decay} must lie in (0, 1)")
        self.decay = float(decay)
        self.updates = 0
        self._live = {f"{name}.{key}": p for name, m in modules.items()
                      for key, p in m.named_parameters()}
        self._avg = {key: p.detach().clone() for key, p in self._live.items()}

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights into the average."""
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for key, p in self._live.items():
            self._avg[key].lerp_(p.detach(), 1.0 - d)
        self.updates += 1

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Inside the block the modules hold the averaged weights; the trained ones after."""
        with torch.no_grad():
            saved = {key: p.detach().clone() for key, p in self._live.items()}
            for key, p in self._live.items():
                p.copy_(self._avg[key])
        try:
            yield
        finally:
            with torch.no_grad():
                for key, p in self._live.items():
                    p.copy_(saved[key])

    def tensors(self) -> dict[str, torch.Tensor]:
        """The averaged weights (and the update count) for a training checkpoint."""
        out = {f"{PREFIX}.{key}": t for key, t in self._avg.items()}
        out[f"{PREFIX}.__updates__"] = torch.tensor([self.updates], dtype=torch.int64)
        return out

    def load(self, tensors: dict[str, torch.Tensor]) -> bool:
        """Restore from :meth:`tensors`' output; ``False`` if the checkpoint has no average."""
        if f"{PREFIX}.__updates__" not in tensors:
            return False
        with torch.no_grad():
            for key, t in self._avg.items():
                t.copy_(tensors[f"{PREFIX}.{key}"])
        self.updates = int(tensors[f"{PREFIX}.__updates__"][0])
        return True
