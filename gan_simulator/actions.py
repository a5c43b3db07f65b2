"""The catalogue of marketing actions and what each one costs.

The catalogue lives at the bottom of the import graph because the data pipeline validates
logged ``action`` labels against it, the structural simulator attaches effects to it and the
environment maps ``Discrete(K)`` indices onto it. Code ``0`` is always ``none``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gan_simulator.errors import ConfigError


@dataclass(frozen=True)
class Action:
    """One marketing action.

    Attributes:
        name: Label used in configs, logs and reports (``email``, ``discount_10``...).
        contact_cost: Dollars paid whenever the action is sent (e-mail delivery, creative).
        discount: Fraction of the list price given away on every purchase in the week the
            action is active (``0.10`` for a 10% coupon). Paid also on purchases that would
            have happened anyway.
        incentive_cost: Dollars paid when a treated customer redeems the offer by buying
            that week (e.g. the cost of a loyalty perk such as free shipping).
        is_contact: Whether the action reaches the customer (drives fatigue and opt-out).
    """

    name: str
    contact_cost: float = 0.0
    discount: float = 0.0
    incentive_cost: float = 0.0
    is_contact: bool = True

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace(":", "").isalnum():
            raise ConfigError(
                f"action name {self.name!r} is not a plain identifier; "
                "use letters, digits and underscores such as 'discount_10'"
            )
        for key in ("contact_cost", "incentive_cost"):
            if getattr(self, key) < 0:
                raise ConfigError(f"action {self.name!r}: {key}={getattr(self, key)} must be >= 0")
        if not 0.0 <= self.discount < 1.0:
            raise ConfigError(
                f"action {self.name!r}: discount={self.discount} must be a fraction in [0, 1)"
            )


# Costs are illustrative defaults for a 1990s CD retailer; all of them are configurable.
# e-mail: ~$0.10 per message all-in (delivery + creative amortised).
DEFAULT_ACTIONS: tuple[Action, ...] = (
    Action("none", is_contact=False),
    Action("email", contact_cost=0.10),
    Action("discount_10", contact_cost=0.10, discount=0.10),
    Action("discount_25", contact_cost=0.10, discount=0.25),
    Action("loyalty_perk", contact_cost=0.10, incentive_cost=2.0),
)


@dataclass(frozen=True)
class ActionCatalog:
    """An ordered set of actions; index ``i`` is the env's ``Discrete`` action ``i``.

    >>> cat = ActionCatalog.default()
    >>> cat.names
    ('none', 'email', 'discount_10', 'discount_25', 'loyalty_perk')
    >>> cat.code("discount_25")
    3
    """

    actions: tuple[Action, ...] = field(default=DEFAULT_ACTIONS)

    def __post_init__(self) -> None:
        if not self.actions or self.actions[0].name != "none":
            raise ConfigError("an action catalogue must start with the action 'none' (code 0)")
        if self.actions[0].is_contact or self.actions[0].contact_cost or self.actions[0].discount:
            raise ConfigError("action 'none' must cost nothing and contact nobody")
        names = [a.name for a in self.actions]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ConfigError(f"action catalogue has duplicate names {sorted(dup)}")

    @classmethod
    def default(cls) -> ActionCatalog:
        """The default catalogue: none, email, discount_10, discount_25, loyalty_perk."""
        return cls(DEFAULT_ACTIONS)

    @classmethod
    def from_config(cls, items: Sequence[Mapping[str, Any]]) -> ActionCatalog:
        """Build a catalogue from a list of mappings (as read from YAML)."""
        allowed = set(Action.__dataclass_fields__)
        actions = []
        for i, item in enumerate(items):
            unknown = set(item) - allowed
            if unknown:
                raise ConfigError(
                    f"actions[{i}] has unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
                )
            actions.append(Action(**item))
        return cls(tuple(actions))

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def names(self) -> tuple[str, ...]:
        """Action names in code order."""
        return tuple(a.name for a in self.actions)

    def code(self, name: str) -> int:
        """The integer code of an action name; raises ``ConfigError`` for unknown names."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(
                f"unknown action {name!r}; the catalogue has {list(self.names)}"
            ) from None

    def codes(self, labels: Iterable[str]) -> np.ndarray:
        """Vectorised :meth:`code`; unknown labels map to ``-1``."""
        return pd.Index(self.names).get_indexer(pd.Index(list(labels))).astype(np.int16)

    def array(self, attribute: str) -> np.ndarray:
        """Per-code array of one numeric attribute, e.g. ``array("discount")``."""
        return np.array([float(getattr(a, attribute)) for a in self.actions], dtype=np.float64)

    def to_config(self) -> list[dict[str, Any]]:
        """The catalogue as plain data (inverse of :meth:`from_config`)."""
        return [dict(a.__dict__) for a in self.actions]
