"""The environment's settings: one frozen, documented dataclass filled from YAML or a dict.

>>> from gan_simulator.configuration import from_mapping
>>> cfg = from_mapping(EnvConfig, {"horizon": 26, "window": 4})
>>> (cfg.horizon, cfg.window, cfg.margin)
(26, 4, 0.3)
>>> EnvConfig(horizon=0)
Traceback (most recent call last):
...
gan_simulator.errors.ConfigError: env.horizon=0 must be a positive number of weeks, e.g. 52
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gan_simulator.errors import ConfigError

RECENT_WEEKS = 4
"""Length of the look-back behind ``contacts_last_4w`` and ``discounts_last_4w``."""


@dataclass(frozen=True)
class EnvConfig:
    """Settings of :class:`crm_env.CRMEnv` and :class:`crm_env.CRMVectorEnv`.

    Attributes:
        horizon: Weeks per episode; the episode is *truncated* after this many steps.
            52 weeks is one planning year, the unit in which retention budgets are set.
        window: Weeks of history in the ``history`` observation (the last ``window`` weeks,
            oldest first). 8 weeks covers the typical CDNOW inter-purchase gap of repeat
            buyers while keeping the CNN/GRU input small; must be >= 1.
        margin: Gross margin on list-price sales, as a fraction: the share of a list-price
            dollar left after the cost of the goods. Default ``0.30``. Reasoning: a 1990s
            full-price CD (list ~$16) cost a retailer roughly two thirds of its list price
            wholesale, and US music retailers of the period reported gross margins of roughly
            30-40% of sales; online sellers such as CDNOW priced lower and earned less, so the
            low end of that range is used. It is a business input: set your own.
        population: Which customers an episode starts from. ``"synthetic"``: newly generated
            customers; ``"real"``: real customers of the simulator's pool continued from their
            observed history. Honoured by simulators that can do both (the env calls their
            ``with_population``); otherwise only the simulator's own population is accepted.
        seed: Root seed of all randomness (customers, their luck). ``None``: a fresh seed is
            drawn from the operating system at the first reset and logged. ``reset(seed=...)``
            overrides it.
        reward_scale: Multiplier turning dollars into reward (the ``info`` parts stay in dollars).
        opt_out: What happens when a customer opts out of all contact (an absorbing state).
            ``"terminate"``: the episode ends with ``terminated=True`` in that week.
            ``"continue"``: the customer keeps buying on their own until the horizon; from the
            week after the opt-out every action is treated as ``none`` (no effect, no cost) and
            the ``opted_out`` profile feature is 1.
        copy_observations: Return fresh observation arrays at every step (safe to keep).
            ``False`` returns the env's internal buffers, which the next step overwrites.
    """

    horizon: int = 52
    window: int = 8
    margin: float = 0.30
    population: Literal["synthetic", "real"] = "synthetic"
    seed: int | None = None
    reward_scale: float = 1.0
    opt_out: Literal["terminate", "continue"] = "terminate"
    copy_observations: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.horizon, int) or self.horizon < 1:
            raise ConfigError(
                f"env.horizon={self.horizon!r} must be a positive number of weeks, e.g. 52"
            )
        if not isinstance(self.window, int) or self.window < 1:
            raise ConfigError(f"env.window={self.window!r} must be a positive number of weeks, e.g. 8")
        if not 0.0 <= self.margin <= 1.0:
            raise ConfigError(f"env.margin={self.margin!r} must be a fraction in [0, 1], e.g. 0.3")
        if self.population not in ("synthetic", "real"):
            raise ConfigError(
                f"env.population={self.population!r}; choose 'synthetic' or 'real'"
            )
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise ConfigError(f"env.seed={self.seed!r} must be a non-negative integer or None")
        if not self.reward_scale > 0:
            raise ConfigError(f"env.reward_scale={self.reward_scale!r} must be > 0, e.g. 1.0")
        if self.opt_out not in ("terminate", "continue"):
            raise ConfigError(f"env.opt_out={self.opt_out!r}; choose 'terminate' or 'continue'")
