"""Customer populations for the metric tests, drawn from the structural (BG/NBD) world.

Not a test module: the metric tests import :func:`structural_customers` to get realistic
weekly sequences with a known generating process (``purchased``, ``transactions``, ``spend``
in WEEK_FEATURES order, a first-purchase week per customer, no marketing action).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gan_simulator.rng import stream_keys, uniforms
from gan_simulator.structural import StructuralSimulator
from gan_simulator.structural_config import StructuralConfig


def structural_customers(
    n: int, periods: int, seed: int, *, max_cohort: int = 4, rate_scale: float = 1.0
) -> dict[str, np.ndarray]:
    """``n`` customers over ``periods`` calendar weeks, first purchases in weeks ``0..max_cohort``.

    ``rate_scale`` multiplies the mean purchase rate (through the Gamma scale ``alpha``), which
    makes a population that is clearly different from the default one.

    Returns:
        ``static [n, 3]``, ``behaviour [n, T, 3]``, ``mask [n, T]`` (as ``generate`` does).
    """
    cfg = StructuralConfig()
    sim = StructuralSimulator(replace(cfg, alpha=cfg.alpha / rate_scale))
    keys = stream_keys(seed, np.arange(n), np.zeros(n, dtype=np.int64))
    draw = sim.draw_customers(uniforms(keys, 0, sim.customer_noise_dim))
    cohort = np.random.default_rng(seed).integers(0, max_cohort + 1, n)
    behaviour = np.zeros((n, periods, 3), dtype=np.float32)
    behaviour[np.arange(n), cohort] = draw.history[:, 0]
    state = draw.state
    none = np.zeros(n, dtype=np.int64)
    for week in range(1, periods):
        state, out = sim.step(state, none, uniforms(keys, week, sim.step_noise_dim))
        # customer i's k-th week after acquisition is calendar week cohort[i] + k
        cal = cohort + week
        ok = cal < periods
        behaviour[np.flatnonzero(ok), cal[ok]] = out.as_features()[ok]
    mask = np.arange(periods)[None, :] >= cohort[:, None]
    static = draw.static.copy()
    static[:, 0] = cohort
    return {"static": static, "behaviour": behaviour, "mask": mask}
