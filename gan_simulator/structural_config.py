"""Configuration of the structural ground-truth world (:mod:`gan_simulator.structural`).

Every number below is a default with its source or reasoning next to it. Fill a config from
YAML/dicts with :func:`gan_simulator.configuration.from_mapping`:

>>> from gan_simulator.configuration import from_mapping
>>> cfg = from_mapping(StructuralConfig, {"sleeping_dog_share": 0.0})
>>> cfg.sleeping_dog_share, cfg.r
(0.0, 0.2516)
>>> [e.name for e in cfg.action_effects]
['email', 'discount_10', 'discount_25', 'loyalty_perk']

Units: time is in weeks, money in dollars at list price, uplifts are additive on the log of the
weekly purchase rate (``+0.61`` multiplies the rate by ``exp(0.61) = 1.84``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gan_simulator.errors import ConfigError


def _check(where: str, name: str, value: float, low: float, high: float) -> None:
    if not (low <= value <= high) or math.isnan(value):
        raise ConfigError(f"{where}.{name}={value} is out of range; allowed [{low}, {high}]")


@dataclass(frozen=True)
class ActionEffect:
    """The known effect of one action in the structural world.

    Customer ``i``'s log-uplift for this action is ``uplift_mean + uplift_sd * z_i`` with
    ``z_i ~ N(0, 1)`` drawn once per customer and action (sleeping dogs: see
    :class:`StructuralConfig`). It applies to the purchase rate of the week the action is sent.

    Attributes:
        name: Action name in the :class:`~gan_simulator.actions.ActionCatalog`.
        uplift_mean: Population mean log-uplift of the weekly purchase rate.
        uplift_sd: Standard deviation of the log-uplift across customers (heterogeneity).
        winback_prob: Probability that a dropped-out (but not opted-out) customer who receives
            this action becomes alive again that week.
    """

    name: str
    uplift_mean: float = 0.0
    uplift_sd: float = 0.0
    winback_prob: float = 0.0

    def __post_init__(self) -> None:
        where = f"action_effects[{self.name}]"
        _check(where, "uplift_mean", self.uplift_mean, -5.0, 5.0)
        _check(where, "uplift_sd", self.uplift_sd, 0.0, 5.0)
        _check(where, "winback_prob", self.winback_prob, 0.0, 1.0)


# Contact effect of an e-mail. Hillstrom's MineThatData E-Mail Analytics Challenge (2008,
# 64,000 customers randomised to no e-mail / men's / women's e-mail, two-week window):
# conversion 0.57% control vs 1.25% (men's) and 0.88% (women's), relative lifts of x2.19 and
# x1.54; visits 10.6% vs 18.3% / 15.1% (x1.72 / x1.43). The geometric mean of the two
# conversion lifts is x1.84 -> log-uplift ln(1.84) = 0.61. The gap between the two creatives
# (and across Hillstrom's segments) motivates an sd of 0.35 on the log scale (a customer at
# +1 sd gets x2.6, at -1 sd x1.3).
_EMAIL_UPLIFT = 0.61
# Price part of a coupon. Bijmolt, van Heerde & Pieters (2005, JMR 42(2), meta-analysis of
# 1,851 price elasticities) report a mean elasticity of -2.62: a 10% price cut raises demand by
# ~26% (ln 1.26 = 0.23), 25% by ~66% (ln 1.66 = 0.50). A coupon is also a contact, so its
# log-uplift is the e-mail effect plus the price effect.
_PRICE_ELASTICITY = 2.62

DEFAULT_EFFECTS: tuple[ActionEffect, ...] = (
    ActionEffect("email", uplift_mean=_EMAIL_UPLIFT, uplift_sd=0.35, winback_prob=0.0),
    # 0.61 + ln(1 + 2.62 * 0.10) = 0.84; win-back 1%: reasoning - re-acquisition offers to
    # lapsed customers convert in the low single-digit percent in direct-marketing practice;
    # a 10% coupon sits at the low end.
    ActionEffect(
        "discount_10",
        uplift_mean=round(_EMAIL_UPLIFT + math.log1p(_PRICE_ELASTICITY * 0.10), 2),
        uplift_sd=0.35,
        winback_prob=0.01,
    ),
    # 0.61 + ln(1 + 2.62 * 0.25) = 1.11; win-back 2.5%: a deeper offer reactivates more.
    ActionEffect(
        "discount_25",
        uplift_mean=round(_EMAIL_UPLIFT + math.log1p(_PRICE_ELASTICITY * 0.25), 2),
        uplift_sd=0.40,
        winback_prob=0.025,
    ),
    # Loyalty perk (e.g. free shipping, bonus points): no price cut, a tangible benefit.
    # Reasoning: between an e-mail and a 10% coupon (0.72), with a wider spread because perks
    # matter a lot to some customers and not at all to others; win-back like a 10% coupon.
    ActionEffect("loyalty_perk", uplift_mean=0.72, uplift_sd=0.45, winback_prob=0.01),
)


@dataclass(frozen=True)
class StructuralConfig:
    """Parameters of the structural (BG/NBD-type) customer world.

    Attributes:
        r: BG/NBD shape of the weekly purchase-rate Gamma. Source: ``fit_bgnbd`` on
            ``calibration_summary(load_cdnow(), "1997-09-30")`` (all 23,570 CDNOW customers,
            weeks 0-38, repeat purchase days) gives r=0.2516, alpha=4.7889, a=0.7235,
            b=2.1614. Simulated weekly (purchase prob ``1 - exp(-lambda)``, dropout after a
            purchase week), these give 46.3% of customers a repeat purchase week within 52
            weeks of acquisition and 1.35 repeat weeks on average (200,000 simulated
            customers), against 45.3% and 1.36 in CDNOW (tests/gan_simulator/test_structural.py).
        alpha: BG/NBD scale (weeks) of the purchase-rate Gamma; mean rate ``r / alpha``.
        a: BG/NBD Beta shape of the dropout probability after a purchase week.
        b: BG/NBD Beta shape; mean dropout probability ``a / (a + b)`` = 0.25.
        gg_p: Gamma-Gamma shape of the spend of one transaction (one transaction = one row of
            the log). Source: ``fit_gamma_gamma`` on the CDNOW weekly panel
            (``build_panel(load_cdnow())``), repeat purchase weeks (after the first purchase
            week) among weeks 0-38: x = their transactions, monetary = their spend / x; gives
            p=6.301, q=3.654, gamma=14.887 (mean $35.6 per transaction).
        gg_q: Gamma-Gamma shape of the customers' spend-rate Gamma.
        gg_gamma: Gamma-Gamma rate of the customers' spend-rate Gamma (dollars).
        extra_transactions_mean: Mean number of transactions beyond the first in a purchase
            week (geometric). Source: the same CDNOW panel weeks, 1.103 transactions per
            repeat purchase week.
        sleeping_dog_share: Share of customers who react badly to contact. Reasoning: uplift
            studies regularly find a minority with negative treatment effects (Ascarza 2018,
            "Retention futility", JMR 55(1); Radcliffe & Surry 2011 on "sleeping dogs");
            10% is a moderate choice.
        sleeping_dog_uplift: Mean log-uplift for a sleeping dog of any contact action listed
            in ``action_effects`` (their customer-specific uplift is this plus the action's sd
            times their normal draw, capped at 0). -0.4 means a x0.67 purchase rate in a
            contacted week. Reasoning: a negative effect of the size of the positive ones.
        sleeping_dog_churn: Probability that a contact makes an alive sleeping dog drop out
            that week. Reasoning: annoyance-driven defection; 3% per contact makes repeated
            contact of these customers clearly costly within a quarter.
        sleeping_dog_optout_multiplier: Sleeping dogs' opt-out probability relative to others.
        contact_decay: Weekly decay factor of contact pressure ``C <- decay * C + contacted``;
            0.7 gives a half-life of ~2 weeks (reasoning: e-mail fatigue fades within weeks).
        fatigue_response: Positive uplifts are multiplied by ``exp(-fatigue_response * C)``,
            where C is the pressure carried into the week. 0.5: after weekly contact (steady
            C = 3.3) the uplift keeps ~19% of its fresh value.
        fatigue_churn: Extra dropout probability per unit of pressure when contacted
            (reasoning: over-contact drives defection; 0.5% per unit, ~1.7% per contact at
            weekly contact).
        optout_base: Opt-out probability of one contact at zero pressure. Source: Mailchimp's
            e-mail marketing benchmarks report an average unsubscribe rate of ~0.26% per
            campaign.
        optout_fatigue: Opt-out probability grows as ``optout_base * (1 + optout_fatigue * C)``
            with the pressure after this week's contact.
        discount_decay: Weekly decay factor of discount pressure ``D <- decay * D + discount``
            (discount as a fraction, 0.25 for 25%). 0.8: half-life ~3 weeks.
        habituation: Full-price weeks (no discount this week) have their purchase rate
            multiplied by ``exp(-habituation * D)``. Reasoning: promotions lower reference
            prices and raise price sensitivity (Mela, Gupta & Lehmann 1997, JMR 34(2));
            1.0 means a weekly 25% coupon (steady D = 1.25) cuts full-price buying to ~29%.
        action_effects: Known effects per action name; actions not listed have no effect.
    """

    r: float = 0.2516
    alpha: float = 4.7889
    a: float = 0.7235
    b: float = 2.1614
    gg_p: float = 6.301
    gg_q: float = 3.654
    gg_gamma: float = 14.887
    extra_transactions_mean: float = 0.103
    sleeping_dog_share: float = 0.10
    sleeping_dog_uplift: float = -0.4
    sleeping_dog_churn: float = 0.03
    sleeping_dog_optout_multiplier: float = 5.0
    contact_decay: float = 0.7
    fatigue_response: float = 0.5
    fatigue_churn: float = 0.002
    optout_base: float = 0.0026
    optout_fatigue: float = 0.3
    discount_decay: float = 0.8
    habituation: float = 1.0
    action_effects: tuple[ActionEffect, ...] = field(default=DEFAULT_EFFECTS)

    def __post_init__(self) -> None:
        where = "structuralconfig"
        for name in ("r", "alpha", "a", "b", "gg_p", "gg_gamma"):
            _check(where, name, getattr(self, name), 1e-6, 1e6)
        _check(where, "gg_q", self.gg_q, 1.0 + 1e-6, 1e6)  # finite mean spend needs q > 1
        _check(where, "extra_transactions_mean", self.extra_transactions_mean, 0.0, 100.0)
        for name in ("sleeping_dog_share", "sleeping_dog_churn", "optout_base"):
            _check(where, name, getattr(self, name), 0.0, 1.0)
        for name in ("contact_decay", "discount_decay"):
            _check(where, name, getattr(self, name), 0.0, 0.999)
        _check(where, "sleeping_dog_uplift", self.sleeping_dog_uplift, -5.0, 0.0)
        for name in (
            "sleeping_dog_optout_multiplier",
            "fatigue_response",
            "fatigue_churn",
            "optout_fatigue",
            "habituation",
        ):
            _check(where, name, getattr(self, name), 0.0, 100.0)
        names = [e.name for e in self.action_effects]
        if "none" in names:
            raise ConfigError(f"{where}.action_effects: 'none' cannot have an effect; remove it")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"{where}.action_effects: duplicate action name(s) {dup}")

    def effect(self, name: str) -> ActionEffect:
        """The effect of action ``name`` (a zero effect when the config does not list it)."""
        for e in self.action_effects:
            if e.name == name:
                return e
        return ActionEffect(name)
