"""Shared small settings: the structural simulator, short episodes, one torch thread."""

from __future__ import annotations

import pytest
import torch

SMALL_ENV = {"horizon": 8, "window": 4}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
