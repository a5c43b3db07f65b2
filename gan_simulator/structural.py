"""The structural ground-truth world: BG/NBD customers with known, heterogeneous action effects.

Each customer has a latent weekly purchase rate ``lambda ~ Gamma(r, alpha)``, a dropout
probability ``p ~ Beta(a, b)`` that applies after every purchase week (the BG/NBD story of
Fader, Hardie & Lee 2005, in discrete weeks), and a spend rate ``nu ~ Gamma(q, gamma)`` so that
one transaction costs ``Gamma(p_gg, nu)`` dollars (Gamma-Gamma). Parameters are the project's
own CDNOW fits (:mod:`gan_simulator.structural_config` names the function and split).

One week for an alive customer, given action ``k`` (all steps vectorised over customers):

1. *Delivery*: an opted-out customer receives no contact actions (treated as ``none``).
2. *Win-back*: a dropped-out customer who receives an offer comes back to life with the
   action's ``winback_prob``.
3. *Purchase*: ``P = 1 - exp(-lambda * exp(u_ik' - h * D))`` where ``u_ik'`` is the customer's
   log-uplift for ``k`` (sleeping dogs: negative), shrunk by contact fatigue
   ``exp(-f * C)`` when positive, and ``h * D`` (discount habituation) applies only in weeks
   without a discount. ``C`` and ``D`` are the pressures carried into the week.
4. *Basket*: ``1 + Geometric`` transactions; spend ``Gamma(p_gg * n, nu)`` (sum of ``n``
   Gamma-Gamma transactions), at list price. Discount cost is the environment's business.
5. *Dropout*: after a purchase week with probability ``p``; a contact adds churn for
   sleeping dogs and with pressure; a contact can make the customer opt out (absorbing).
   The BG/NBD dropout clock ticks on *organic* purchase weeks (``u_buy < 1 - exp(-lambda)``,
   the purchase that would happen with no action and no habituation; with common random
   numbers this is known). With no action this is exactly the BG/NBD story; with actions, an
   induced purchase does not shorten the customer's natural lifetime (otherwise every extra
   sale would hasten dropout), and the long-run costs of marketing are the explicit ones:
   churn, opt-out, fatigue and habituation.
6. *Pressures*: ``C <- c * C + contacted``, ``D <- d * D + discount``.

Random numbers come only from the caller's uniforms. Inverse transforms used in :meth:`step`
are cheap: geometric by ``floor(log u / log theta)``, and the spend Gamma by the
Wilson-Hilferty cube of a normal (Wilson & Hilferty 1931), accurate here because the shape
``p_gg * n >= 6.3``. :meth:`draw_customers` runs once per episode and uses exact inverse CDFs
(``gammaincinv``, ``betaincinv``), as the rate shape ``r = 0.25`` is far too small for
Wilson-Hilferty.

>>> import numpy as np
>>> from gan_simulator.rng import stream_keys, uniforms
>>> sim = StructuralSimulator()
>>> keys = stream_keys(0, np.arange(4), np.zeros(4, dtype=np.int64))
>>> draw = sim.draw_customers(uniforms(keys, 0, sim.customer_noise_dim))
>>> state, out = sim.step(draw.state, np.zeros(4, dtype=np.int64), uniforms(keys, 1, 7))
>>> out.as_features().shape
(4, 3)
"""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
from scipy import special

from gan_simulator.actions import ActionCatalog
from gan_simulator.configuration import to_mapping
from gan_simulator.errors import EnvArgumentError
from gan_simulator.protocol import CustomerDraw, State, WeekOutcome
from gan_simulator.rng import normals
from gan_simulator.structural_config import ActionEffect, StructuralConfig

logger = logging.getLogger(__name__)

__all__ = ["ActionEffect", "StructuralConfig", "StructuralSimulator"]

_MODEL_VERSION = "structural-v1"
# Step channels (columns of the uniforms passed to ``step``).
_U_BUY, _U_DROP, _U_BASKET, _U_SPEND, _U_CHURN, _U_OPTOUT, _U_WINBACK = range(7)
# Customer channels before the per-action uplift draws.
_C_RATE, _C_DROPOUT, _C_SPEND_RATE, _C_DOG, _C_BASKET, _C_SPEND = range(6)
_N_CUSTOMER_FIXED = 6


class StructuralSimulator:
    """Ground-truth customer world implementing :class:`gan_simulator.protocol.Simulator`.

    Args:
        config: Model parameters; defaults are the CDNOW fits and cited effect sizes.
        catalog: Actions whose codes ``step`` accepts; effects attach by action name.

    Attributes:
        catalog: The action catalogue.
        config: The parameters.
        static_names: ``("cohort_period", "first_spend", "first_transactions")``, as in
            :class:`gan_simulator.data.CustomerPanel`.
        customer_noise_dim: ``6 + len(catalog)`` uniforms per drawn customer.
        step_noise_dim: 7 uniforms per customer and week.
        fingerprint: 16 hex digits of a SHA-256 over model version, config and catalogue.
        has_latent_state: Always True; :meth:`latent` exposes the hidden state.

    The state is a dict of NumPy arrays (customer on axis 0): ``alive``, ``opted_out``,
    ``sleeping_dog`` (bool), ``rate``, ``dropout_p``, ``spend_rate``, ``contact_pressure``,
    ``discount_pressure`` (float64) and ``uplift`` (float64 ``[n, K]``, column 0 is zero).
    :meth:`step` returns a new dict; arrays that a week cannot change are shared with the
    input state.
    """

    static_names: tuple[str, ...] = ("cohort_period", "first_spend", "first_transactions")
    step_noise_dim: int = 7
    has_latent_state: bool = True

    def __init__(
        self, config: StructuralConfig | None = None, catalog: ActionCatalog | None = None
    ) -> None:
        self.config = config or StructuralConfig()
        self.catalog = catalog or ActionCatalog.default()
        cfg = self.config
        unknown = sorted({e.name for e in cfg.action_effects} - set(self.catalog.names))
        if unknown:
            logger.warning(
                "structural effects for actions %s not in the catalogue are unused", unknown
            )
        effects = [cfg.effect(name) for name in self.catalog.names]
        self._uplift_mean = np.array([e.uplift_mean for e in effects])
        self._uplift_sd = np.array([e.uplift_sd for e in effects])
        self._winback = np.array([e.winback_prob for e in effects])
        self._winback[0] = 0.0
        self._is_contact = np.array([a.is_contact for a in self.catalog.actions], dtype=bool)
        listed = {e.name for e in cfg.action_effects}
        # Sleeping dogs react badly to the contact actions that have an effect at all.
        self._dog_cols = self._is_contact & np.array([n in listed for n in self.catalog.names])
        self._discount = self.catalog.array("discount")
        self._has_discount = self._discount > 0
        theta = cfg.extra_transactions_mean / (1.0 + cfg.extra_transactions_mean)
        self._log_theta = float(np.log(theta)) if theta > 0 else 0.0
        self.customer_noise_dim = _N_CUSTOMER_FIXED + len(self.catalog)
        payload = {
            "model": _MODEL_VERSION,
            "config": to_mapping(cfg),
            "catalog": self.catalog.to_config(),
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        self.fingerprint = hashlib.sha256(blob).hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"StructuralSimulator(fingerprint={self.fingerprint!r}, actions={self.catalog.names})"
        )

    # ------------------------------------------------------------------ random pieces

    def _basket(self, u: np.ndarray) -> np.ndarray:
        """``1 + Geometric`` transactions (float64) from uniforms."""
        if self._log_theta == 0.0:
            return np.ones_like(u)
        return 1.0 + np.floor(np.log(u) / self._log_theta)

    def _spend(self, u: np.ndarray, transactions: np.ndarray, spend_rate: np.ndarray) -> np.ndarray:
        """``Gamma(p_gg * transactions, rate=spend_rate)`` by Wilson-Hilferty."""
        k = self.config.gg_p * np.maximum(transactions, 1.0)
        c = 1.0 / (9.0 * k)
        cube = np.maximum(1.0 - c + normals(u) * np.sqrt(c), 0.0)
        return k * cube * cube * cube / spend_rate

    # ------------------------------------------------------------------ protocol

    def draw_customers(self, u: np.ndarray) -> CustomerDraw:
        """Draw ``n`` customers in their acquisition week from ``u[n, customer_noise_dim]``.

        The acquisition week (a first purchase) is the one-week history. Customers start alive,
        opted in, with zero pressures. ``customer_ids`` are ``-1`` (synthetic).
        """
        u = self._check_uniforms(u, self.customer_noise_dim, "draw_customers")
        cfg = self.config
        n = u.shape[0]
        rate = special.gammaincinv(cfg.r, u[:, _C_RATE]) / cfg.alpha
        dropout_p = special.betaincinv(cfg.a, cfg.b, u[:, _C_DROPOUT])
        spend_rate = special.gammaincinv(cfg.gg_q, u[:, _C_SPEND_RATE]) / cfg.gg_gamma
        dog = u[:, _C_DOG] < cfg.sleeping_dog_share
        z = normals(u[:, _N_CUSTOMER_FIXED:])
        uplift = self._uplift_mean[None, :] + self._uplift_sd[None, :] * z
        dog_uplift = np.minimum(cfg.sleeping_dog_uplift + self._uplift_sd[None, :] * z, 0.0)
        uplift = np.where(dog[:, None] & self._dog_cols[None, :], dog_uplift, uplift)
        uplift[:, 0] = 0.0
        transactions = self._basket(u[:, _C_BASKET])
        spend = self._spend(u[:, _C_SPEND], transactions, spend_rate)
        state: State = {
            "alive": np.ones(n, dtype=bool),
            "opted_out": np.zeros(n, dtype=bool),
            "sleeping_dog": dog,
            "rate": rate,
            "dropout_p": dropout_p,
            "spend_rate": spend_rate,
            "uplift": uplift,
            "contact_pressure": np.zeros(n),
            "discount_pressure": np.zeros(n),
        }
        history = np.stack([np.ones(n), transactions, spend], axis=1)[:, None, :]
        static = np.stack([np.zeros(n), spend, transactions], axis=1)
        return CustomerDraw(
            state=state,
            static=static.astype(np.float32),
            history=history.astype(np.float32),
            history_mask=np.ones((n, 1), dtype=bool),
            customer_ids=np.full(n, -1, dtype=np.int64),
        )

    def _week(
        self, state: State, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Delivered action, whether it is a contact, purchase probability if alive, win-back."""
        cfg = self.config
        a = np.asarray(actions)
        n = state["rate"].shape[0]
        if a.shape != (n,):
            raise EnvArgumentError(f"actions must have shape ({n},), got {a.shape}")
        if n and (a.min() < 0 or a.max() >= len(self.catalog)):
            raise EnvArgumentError(
                f"action codes must lie in [0, {len(self.catalog) - 1}] "
                f"({', '.join(self.catalog.names)}); got {a.min()}..{a.max()}"
            )
        delivered = np.where(state["opted_out"] & self._is_contact[a], 0, a)
        contact = self._is_contact[delivered]
        upl = state["uplift"][np.arange(n), delivered]
        fresh = np.exp(-cfg.fatigue_response * state["contact_pressure"])
        log_mult = np.where(upl > 0, upl * fresh, upl)
        full_price = ~self._has_discount[delivered]
        log_mult = log_mult - np.where(
            full_price, cfg.habituation * state["discount_pressure"], 0.0
        )
        p_buy = -np.expm1(-state["rate"] * np.exp(log_mult))
        return delivered, contact, p_buy, self._winback[delivered]

    def step(self, state: State, actions: np.ndarray, u: np.ndarray) -> tuple[State, WeekOutcome]:
        """Advance every customer one week (see the module docstring for the order of events).

        Args:
            state: Current state of ``n`` customers.
            actions: ``int[n]`` action codes of :attr:`catalog`.
            u: ``float64[n, 7]`` uniforms, independent of the actions.

        Returns:
            The new state and the week's outcome; ``opted_out`` is True from the week a
            customer opts out onwards.

        Raises:
            EnvArgumentError: for wrongly shaped arrays or unknown action codes.
        """
        cfg = self.config
        n = state["rate"].shape[0]
        u = self._check_uniforms(u, self.step_noise_dim, "step", n)
        delivered, contact, p_buy, winback = self._week(state, actions)
        alive = state["alive"] | (u[:, _U_WINBACK] < winback)
        purchased = alive & (u[:, _U_BUY] < p_buy)
        basket = self._basket(u[:, _U_BASKET])
        transactions = np.where(purchased, basket, 0.0)
        spend = np.where(purchased, self._spend(u[:, _U_SPEND], basket, state["spend_rate"]), 0.0)
        pressure = cfg.contact_decay * state["contact_pressure"] + contact
        dog = state["sleeping_dog"]
        churn_p = np.where(contact, cfg.fatigue_churn * pressure, 0.0)
        churn_p = churn_p + np.where(contact & dog, cfg.sleeping_dog_churn, 0.0)
        # The BG/NBD dropout clock ticks on organic purchases (those that would happen with no
        # action and no habituation), so actions move purchases but not the natural lifetime.
        organic = alive & (u[:, _U_BUY] < -np.expm1(-state["rate"]))
        dropped = (organic & (u[:, _U_DROP] < state["dropout_p"])) | (u[:, _U_CHURN] < churn_p)
        optout_p = np.where(contact, cfg.optout_base * (1.0 + cfg.optout_fatigue * pressure), 0.0)
        optout_p = np.where(dog, optout_p * cfg.sleeping_dog_optout_multiplier, optout_p)
        opted_out = state["opted_out"] | (u[:, _U_OPTOUT] < optout_p)
        new_state = dict(state)
        new_state["alive"] = alive & ~dropped
        new_state["opted_out"] = opted_out
        new_state["contact_pressure"] = pressure
        new_state["discount_pressure"] = (
            cfg.discount_decay * state["discount_pressure"] + self._discount[delivered]
        )
        outcome = WeekOutcome(
            purchased=purchased,
            transactions=transactions.astype(np.float32),
            spend=spend.astype(np.float32),
            opted_out=opted_out,
        )
        return new_state, outcome

    def expected_week(self, state: State, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purchase probability and expected list-price spend this week (state unchanged).

        Includes the chance that an offer wins a dropped-out customer back.
        """
        _, _, p_buy, winback = self._week(state, actions)
        p_alive = np.where(state["alive"], 1.0, winback)
        prob = p_alive * p_buy
        per_week = (1.0 + self.config.extra_transactions_mean) * self.config.gg_p
        return prob, prob * per_week / state["spend_rate"]

    def latent(self, state: State) -> dict[str, np.ndarray]:
        """Copies of the hidden state, plus ``mean_spend`` (dollars per transaction)."""
        out = {key: np.array(value, copy=True) for key, value in state.items()}
        out["mean_spend"] = self.config.gg_p / state["spend_rate"]
        return out

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _check_uniforms(u: np.ndarray, dim: int, where: str, n: int | None = None) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != dim or (n is not None and u.shape[0] != n):
            want = f"({n if n is not None else 'n'}, {dim})"
            raise EnvArgumentError(
                f"{where}: uniforms must have shape {want}, got {u.shape}; draw them with "
                f"gan_simulator.rng.uniforms(keys, counter, {dim})"
            )
        return u
