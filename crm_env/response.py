"""How customers respond to marketing when the GAN never saw any: the ResponseModel.

CDNOW logs no treatments, so a GAN trained on it cannot know what an e-mail or a coupon does.
The :class:`ResponseModel` supplies that knowledge as documented, configurable effects on the
GAN's weekly *purchase logit* and *log-spend*, applied through
``GANSimulator.step(state, actions, u, logit_offset=..., log_spend_offset=...)``. A purchase
the action induces feeds the GAN's hidden state, so the learned dynamics carry its long-term
consequence (a reactivated customer keeps buying, or not, as the GAN learned).

Effects, per customer ``i`` and week, for action ``a`` (contact flag ``c_a``, discount ``d_a``):

* **Immediate uplift** ``g_a = contact_uplift * c_a + log(1 + |price_elasticity| * d_a)
  + extra_uplift[a]``, scaled by the customer's responsiveness ``rho_i ~ Normal(1,
  responsiveness_sd)`` (drawn once per customer; ``rho_i < 0`` are the "sleeping dogs" who
  react badly to contact) and by contact fatigue ``exp(-fatigue_strength * F_i)``.
* **Contact fatigue** ``F_i <- fatigue_decay * F_i + c_a``: recent contacts shrink the uplift
  and raise the opt-out risk.
* **Discount habituation** (reference price): ``R_i <- habituation_decay * R_i +
  (1 - habituation_decay) * d_a`` is the discount the customer has come to expect; a week
  whose discount is below it costs ``habituation_strength * max(R_i - d_a, 0)`` on the logit.
* **Opt-out**: a contact makes the customer opt out of all contact with probability
  ``opt_out_per_contact * (1 + opt_out_fatigue * F_i)``; afterwards contacts have no effect.

Default values and their sources:

* ``contact_uplift = 0.6``: Hillstrom's MineThatData E-Mail Analytics challenge (2008), a
  randomised test on 64,000 customers: two-week conversion 0.57% without e-mail versus
  0.88% (women's e-mail) and 1.25% (men's e-mail); visits 10.6% versus 15.2% / 18.3%. The
  log-odds ratios of conversion are ``ln(0.88/0.57) = 0.43`` and ``ln(1.25/0.57) = 0.79``;
  0.6 is their mean.
* ``price_elasticity = -2.62``: the mean price elasticity of the meta-analysis by Bijmolt,
  van Heerde & Pieters (2005, Journal of Marketing Research 42(2)), applied to purchase
  incidence: a 10% discount adds ``ln(1.262) = 0.23`` and a 25% one ``ln(1.655) = 0.50``.
* ``extra_uplift = {"loyalty_perk": 0.3}``: a $2 perk on a ~$35 CDNOW basket is worth a ~6%
  price cut (``ln(1 + 2.62 * 0.06) = 0.15``); it is doubled because a *free* benefit draws
  more response than its money value (Shampanier, Mazar & Ariely 2007, "Zero as a special
  price", Marketing Science 26(6)). Reasoned, not measured.
* ``responsiveness_sd = 0.5``: uplift studies of the Hillstrom data find large segment
  differences (men's e-mail works for men, barely for women) and segments with negative
  uplift; with sd 0.5 about 2% of customers respond negatively. Reasoned, not measured.
* ``fatigue_decay = 0.7`` (half-life ~2 weeks), ``fatigue_strength = 0.25``: weekly contact
  settles at ``F = 3.3`` and shrinks the uplift to 43%. Reasoned, not measured.
* ``habituation_decay = 0.9``, ``habituation_strength = 4.0``: after months of weekly 25%
  coupons a full-price week costs ``4 * 0.25 = 1.0`` on the logit (reference-price effects,
  Kalyanaram & Winer 1995, Marketing Science 14(3)). Reasoned, not measured.
* ``opt_out_per_contact = 0.002``: e-mail unsubscribe rates per message sent are commonly
  reported around 0.1-0.3% in industry benchmarks; ``opt_out_fatigue = 1.0`` doubles the risk
  per unit of fatigue. Reasoned from benchmarks, not measured on CDNOW.

>>> from gan_simulator.actions import ActionCatalog
>>> model = ResponseModel()
>>> [round(float(g), 2) for g in model.base_uplift]
[0.0, 0.6, 0.83, 1.1, 0.9]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gan_simulator.actions import ActionCatalog
from gan_simulator.configuration import to_mapping
from gan_simulator.errors import ConfigError
from gan_simulator.protocol import CustomerDraw, State, WeekOutcome
from gan_simulator.rng import normals

_PREFIX = "response_"


@dataclass(frozen=True)
class ResponseConfig:
    """Effect sizes of the :class:`ResponseModel` (sources in the module docstring).

    Attributes:
        contact_uplift: Purchase-logit uplift of any contact action (Hillstrom 2008).
        price_elasticity: Price elasticity turning a discount into uplift (Bijmolt et al. 2005).
        extra_uplift: Additional logit uplift per action name (e.g. the loyalty perk).
        spend_uplift: Log-spend offset per action name in weeks the action is active.
        responsiveness_sd: Spread of the per-customer response multiplier around 1.
        fatigue_decay: Weekly carry-over of contact fatigue, in [0, 1).
        fatigue_strength: Uplift shrink per unit of fatigue: ``exp(-strength * F)``.
        habituation_decay: Weekly carry-over of the expected (reference) discount, in [0, 1).
        habituation_strength: Logit penalty per unit of discount below the reference.
        opt_out_per_contact: Opt-out probability of one contact to an unfatigued customer.
        opt_out_fatigue: Relative opt-out increase per unit of fatigue.
    """

    contact_uplift: float = 0.6
    price_elasticity: float = -2.62
    extra_uplift: dict[str, float] = field(default_factory=lambda: {"loyalty_perk": 0.3})
    spend_uplift: dict[str, float] = field(default_factory=dict)
    responsiveness_sd: float = 0.5
    fatigue_decay: float = 0.7
    fatigue_strength: float = 0.25
    habituation_decay: float = 0.9
    habituation_strength: float = 4.0
    opt_out_per_contact: float = 0.002
    opt_out_fatigue: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fatigue_decay", "habituation_decay"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"response.{name}={getattr(self, name)} must be in [0, 1)")
        if not 0.0 <= self.opt_out_per_contact <= 1.0:
            raise ConfigError(
                f"response.opt_out_per_contact={self.opt_out_per_contact} must be a probability"
            )
        for name in ("responsiveness_sd", "fatigue_strength", "habituation_strength",
                     "opt_out_fatigue"):
            if getattr(self, name) < 0:
                raise ConfigError(f"response.{name}={getattr(self, name)} must be >= 0")


@dataclass(frozen=True)
class ResponseState:
    """The response model's per-customer state (arrays over customers)."""

    responsiveness: np.ndarray  # float64[n]
    fatigue: np.ndarray  # float64[n]
    reference_discount: np.ndarray  # float64[n]
    opted_out: np.ndarray  # bool[n]


class ResponseModel:
    """Configurable action effects on a purchase logit and log-spend, as array functions.

    Args:
        config: Effect sizes; defaults cite their sources.
        catalog: The actions (default catalogue when omitted).
    """

    def __init__(
        self, config: ResponseConfig | None = None, catalog: ActionCatalog | None = None
    ) -> None:
        self.config = config or ResponseConfig()
        self.catalog = catalog or ActionCatalog.default()
        cfg = self.config
        names = self.catalog.names
        for key in ("extra_uplift", "spend_uplift"):
            unknown = sorted(set(getattr(cfg, key)) - set(names))
            if unknown:
                raise ConfigError(
                    f"response.{key} names unknown action(s) {unknown}; the catalogue has {list(names)}"
                )
        self.is_contact = np.array([a.is_contact for a in self.catalog.actions], dtype=bool)
        self.discount = self.catalog.array("discount")
        self.base_uplift = (
            cfg.contact_uplift * self.is_contact
            + np.log1p(abs(cfg.price_elasticity) * self.discount)
            + np.array([cfg.extra_uplift.get(n, 0.0) for n in names])
        )
        self.base_uplift[0] = 0.0
        self.spend_offset = np.array([cfg.spend_uplift.get(n, 0.0) for n in names])

    def initial_state(self, u: np.ndarray) -> ResponseState:
        """State of new customers from one uniform each (``u[n]``)."""
        n = len(u)
        return ResponseState(
            responsiveness=1.0 + self.config.responsiveness_sd * normals(np.asarray(u)),
            fatigue=np.zeros(n),
            reference_discount=np.zeros(n),
            opted_out=np.zeros(n, dtype=bool),
        )

    def offsets(self, rs: ResponseState, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purchase-logit and log-spend offsets of this week's ``actions`` (state unchanged)."""
        cfg = self.config
        delivered = np.where(rs.opted_out & self.is_contact[actions], 0, actions)
        uplift = (
            self.base_uplift[delivered]
            * rs.responsiveness
            * np.exp(-cfg.fatigue_strength * rs.fatigue)
        )
        gap = np.maximum(rs.reference_discount - self.discount[delivered], 0.0)
        logit = uplift - cfg.habituation_strength * gap
        return logit.astype(np.float32), self.spend_offset[delivered].astype(np.float32)

    def advance(self, rs: ResponseState, actions: np.ndarray, u: np.ndarray) -> ResponseState:
        """State after this week's ``actions``; ``u[n]`` decides opt-outs."""
        cfg = self.config
        contact = self.is_contact[actions] & ~rs.opted_out
        p_out = cfg.opt_out_per_contact * (1.0 + cfg.opt_out_fatigue * rs.fatigue)
        new_out = contact & (u < p_out)
        disc = np.where(contact, self.discount[actions], 0.0)
        rho = cfg.habituation_decay
        return ResponseState(
            responsiveness=rs.responsiveness,
            fatigue=cfg.fatigue_decay * rs.fatigue + contact,
            reference_discount=rho * rs.reference_discount + (1.0 - rho) * disc,
            opted_out=rs.opted_out | new_out,
        )

    def fingerprint(self) -> str:
        """12 hex digits identifying the effect sizes and catalogue."""
        blob = json.dumps(
            {"response": to_mapping(self.config), "catalog": self.catalog.to_config()},
            sort_keys=True,
        ).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def wrap(self, gan: Any) -> ResponsiveSimulator:
        """A Simulator that applies these effects to ``gan`` (a ``GANSimulator``)."""
        return ResponsiveSimulator(gan, self)


class ResponsiveSimulator:
    """A GAN simulator with a :class:`ResponseModel` on top; implements the Simulator protocol.

    The GAN is stepped with action ``none`` (it never learned actions) and the response
    model's offsets; one extra uniform per customer draws the responsiveness and one per
    week the opt-out. State is the GAN's dict plus ``response_*`` arrays.
    """

    def __init__(self, gan: Any, model: ResponseModel) -> None:
        self.gan = gan
        self.model = model
        self.catalog = model.catalog
        self.static_names = tuple(gan.static_names)
        self.customer_noise_dim = int(gan.customer_noise_dim) + 1
        self.step_noise_dim = int(gan.step_noise_dim) + 1
        self.has_latent_state = False
        self.fingerprint = hashlib.sha256(
            f"{gan.fingerprint}|{model.fingerprint()}".encode()
        ).hexdigest()[:16]
        self.population = getattr(gan, "population", "synthetic")

    def with_population(self, population: str) -> ResponsiveSimulator:
        """The same wrapper over the GAN drawing ``population`` customers."""
        if hasattr(self.gan, "with_population"):
            return ResponsiveSimulator(self.gan.with_population(population), self.model)
        if population != self.population:
            from gan_simulator.errors import EnvArgumentError

            raise EnvArgumentError(
                f"population={population!r} is not supported by {type(self.gan).__name__}"
            )
        return self

    def _split(self, state: State) -> tuple[State, ResponseState]:
        inner = {k: v for k, v in state.items() if not k.startswith(_PREFIX)}
        rs = ResponseState(
            responsiveness=state[_PREFIX + "responsiveness"],
            fatigue=state[_PREFIX + "fatigue"],
            reference_discount=state[_PREFIX + "reference_discount"],
            opted_out=state[_PREFIX + "opted_out"],
        )
        return inner, rs

    @staticmethod
    def _join(inner: State, rs: ResponseState) -> State:
        state = dict(inner)
        for name in ("responsiveness", "fatigue", "reference_discount", "opted_out"):
            state[_PREFIX + name] = getattr(rs, name)
        return state

    def draw_customers(self, u: np.ndarray) -> CustomerDraw:
        """GAN customers plus their response state (last uniform: responsiveness)."""
        draw = self.gan.draw_customers(u[:, :-1])
        rs = self.model.initial_state(u[:, -1])
        draw.state = self._join(draw.state, rs)
        return draw

    def step(self, state: State, actions: np.ndarray, u: np.ndarray) -> tuple[State, WeekOutcome]:
        """One GAN week under the response model's offsets (last uniform: opt-out)."""
        inner, rs = self._split(state)
        logit, log_spend = self.model.offsets(rs, actions)
        none = np.zeros_like(actions)
        inner, out = self.gan.step(
            inner, none, u[:, :-1], logit_offset=logit, log_spend_offset=log_spend
        )
        new_rs = self.model.advance(rs, actions, u[:, -1])
        out.opted_out = np.asarray(out.opted_out, dtype=bool) | (new_rs.opted_out & ~rs.opted_out)
        return self._join(inner, new_rs), out

    def expected_week(self, state: State, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purchase probability and expected list-price spend under ``actions``."""
        inner, rs = self._split(state)
        logit, log_spend = self.model.offsets(rs, actions)
        return self.gan.expected_week(
            inner, np.zeros_like(actions), logit_offset=logit, log_spend_offset=log_spend
        )

    def latent(self, state: State) -> dict[str, np.ndarray] | None:
        """The response state (the GAN has no interpretable latent state)."""
        _, rs = self._split(state)
        return {
            "responsiveness": rs.responsiveness,
            "fatigue": rs.fatigue,
            "reference_discount": rs.reference_discount,
            "opted_out": rs.opted_out,
        }
