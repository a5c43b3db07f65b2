"""Business-rule and model-based baseline policies with SB3's ``predict()`` protocol.

Every policy here answers ``predict(observation, state=None, episode_start=None,
deterministic=True) -> (actions, state)`` for a *batch* of observations, exactly like an SB3
model, so evaluation and replay never ask which kind of policy they hold.

==================  ==========================================================================
policy              rule
==================  ==========================================================================
``no_action``       never contact anyone (the do-nothing baseline every campaign must beat)
``random``          a uniformly random action per customer and week (seeded generator)
``always:<name>``   the same action for everyone every week, e.g. ``always:email``
``rfm_rule``        contact when recency passes a threshold; discount for lapsing
                    high-value customers (thresholds in :class:`RFMRuleConfig`)
``myopic_uplift``   the action with the best expected profit *this week* according to the
                    simulator (:meth:`Simulator.expected_week`)
``oracle``          see :class:`OraclePolicy`; needs a simulator with latent state
==================  ==========================================================================

The model-based policies read the live simulator state from the env they act in, so they
must be called on the observation that env just returned (as any rollout loop does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import ConfigError, EnvArgumentError

__all__ = [
    "AlwaysPolicy",
    "HeuristicPolicy",
    "MyopicUpliftPolicy",
    "NoActionPolicy",
    "OraclePolicy",
    "RFMRuleConfig",
    "RFMRulePolicy",
    "RandomPolicy",
    "expected_profit",
]

logger = logging.getLogger(__name__)

Observation = dict[str, np.ndarray]


class CRMEnvView(Protocol):
    """What model-based heuristics need from a ``crm_env.CRMVectorEnv``."""

    catalog: ActionCatalog
    simulator: Any
    sim_state: dict[str, Any]
    config: Any
    layout: Any


def _batch_size(observation: Observation) -> int:
    return int(np.asarray(observation["profile"]).shape[0])


class HeuristicPolicy:
    """Base class: a stateless policy over a batch of ``Dict`` observations."""

    name: str = "heuristic"

    def act(self, observation: Observation) -> np.ndarray:
        """Action codes ``int64[n]`` for a batch of observations."""
        raise NotImplementedError

    def predict(
        self,
        observation: Observation,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """SB3-style prediction; heuristics keep no memory, so ``state`` passes through."""
        return self.act(observation).astype(np.int64, copy=False), state


class NoActionPolicy(HeuristicPolicy):
    """Never contact anyone."""

    name = "no_action"

    def act(self, observation: Observation) -> np.ndarray:
        """All zeros (action ``none``)."""
        return np.zeros(_batch_size(observation), dtype=np.int64)


class RandomPolicy(HeuristicPolicy):
    """A uniformly random action per customer and week.

    Args:
        n_actions: Size of the action catalogue.
        seed: Seed of the policy's own generator (the same seed gives the same actions).
    """

    name = "random"

    def __init__(self, n_actions: int, seed: int = 0) -> None:
        self.n_actions = n_actions
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Observation) -> np.ndarray:
        """Uniform codes in ``[0, n_actions)``."""
        return self.rng.integers(0, self.n_actions, size=_batch_size(observation), dtype=np.int64)


class AlwaysPolicy(HeuristicPolicy):
    """The same action for every customer every week.

    Args:
        catalog: The env's action catalogue.
        action: Name of the action, e.g. ``"email"``.
    """

    def __init__(self, catalog: ActionCatalog, action: str) -> None:
        self.code = catalog.code(action)
        self.name = f"always:{action}"

    def act(self, observation: Observation) -> np.ndarray:
        """``code`` for everyone."""
        return np.full(_batch_size(observation), self.code, dtype=np.int64)


@dataclass(frozen=True)
class RFMRuleConfig:
    """Thresholds of the recency-frequency-monetary business rule.

    Attributes:
        contact_after_weeks: Send ``contact_action`` once a customer has not bought for this
            many weeks (a gentle reminder before they lapse).
        lapse_after_weeks: A customer silent this long counts as lapsing.
        high_value_spend: Mean list-price dollars per purchase week from which a lapsing
            customer is high-value and gets ``discount_action`` instead.
        min_frequency: Purchase weeks a customer needs before the discount is offered.
        max_contacts_4w: Do not contact a customer who already had this many contacts in the
            last 4 weeks (fatigue guard).
        contact_action: Action used for reminders.
        discount_action: Action used for lapsing high-value customers.
    """

    contact_after_weeks: float = 6.0
    lapse_after_weeks: float = 12.0
    high_value_spend: float = 40.0
    min_frequency: float = 2.0
    max_contacts_4w: float = 1.0
    contact_action: str = "email"
    discount_action: str = "discount_10"

    def __post_init__(self) -> None:
        for key in ("contact_after_weeks", "lapse_after_weeks", "high_value_spend",
                    "min_frequency", "max_contacts_4w"):
            if getattr(self, key) < 0:
                raise ConfigError(f"rfm_rule.{key}={getattr(self, key)!r} must be >= 0")
        if self.lapse_after_weeks < self.contact_after_weeks:
            raise ConfigError(
                f"rfm_rule.lapse_after_weeks={self.lapse_after_weeks} must be >= "
                f"contact_after_weeks={self.contact_after_weeks}: customers lapse after the reminder"
            )


class RFMRulePolicy(HeuristicPolicy):
    """Contact when recency passes a threshold; discount for lapsing high-value customers.

    Reads ``recency_weeks``, ``frequency``, ``monetary`` (``log1p`` of mean list-price
    spend per purchase week), ``contacts_last_4w`` and ``opted_out`` from the profile by name.

    Args:
        layout: The env's ``ObservationLayout`` (``profile_index(name)``).
        catalog: The env's action catalogue.
        config: Thresholds.
    """

    name = "rfm_rule"

    def __init__(self, layout: Any, catalog: ActionCatalog, config: RFMRuleConfig | None = None):
        self.config = config or RFMRuleConfig()
        self.contact = catalog.code(self.config.contact_action)
        self.discount = catalog.code(self.config.discount_action)
        self.idx = {
            name: layout.profile_index(name)
            for name in ("recency_weeks", "frequency", "monetary", "contacts_last_4w")
        }
        names = tuple(getattr(layout, "profile_names", ()))
        self.opted_idx = layout.profile_index("opted_out") if "opted_out" in names else None

    def act(self, observation: Observation) -> np.ndarray:
        """Apply the rule to every customer of the batch."""
        prof = np.asarray(observation["profile"], dtype=np.float64)
        cfg = self.config
        recency = prof[:, self.idx["recency_weeks"]]
        frequency = prof[:, self.idx["frequency"]]
        spend = np.expm1(prof[:, self.idx["monetary"]])
        fatigued = prof[:, self.idx["contacts_last_4w"]] >= cfg.max_contacts_4w
        actions = np.where(recency >= cfg.contact_after_weeks, self.contact, 0)
        lapsing_vip = (
            (recency >= cfg.lapse_after_weeks)
            & (spend >= cfg.high_value_spend)
            & (frequency >= cfg.min_frequency)
        )
        actions = np.where(lapsing_vip, self.discount, actions)
        actions = np.where(fatigued, 0, actions)
        if self.opted_idx is not None:
            actions = np.where(prof[:, self.opted_idx] > 0.5, 0, actions)
        return actions.astype(np.int64)


def expected_profit(
    p: np.ndarray, spend: np.ndarray, catalog: ActionCatalog, code: int, margin: float
) -> np.ndarray:
    """Expected one-week profit of action ``code``.

    ``spend * (margin - discount) - contact_cost - p * incentive_cost`` where ``p`` is the
    purchase probability and ``spend`` the expected list-price spend of the week (purchase
    probability included, as :meth:`Simulator.expected_week` returns it), i.e.
    ``p * E[spend | purchase] * (margin - discount) - contact_cost - p * incentive_cost``.

    >>> cat = ActionCatalog.default()
    >>> round(float(expected_profit(np.array([0.5]), np.array([10.0]), cat, 2, 0.3)[0]), 6)
    1.9
    >>> round(float(expected_profit(np.array([0.5]), np.array([10.0]), cat, 4, 0.3)[0]), 6)
    1.9
    """
    a = catalog.actions[code]
    return spend * (margin - a.discount) - a.contact_cost - p * a.incentive_cost


def _unwrap_env(env: Any) -> CRMEnvView:
    """Find the CRM vector env (with ``simulator`` and ``sim_state``) inside wrappers."""
    seen = 0
    current = env
    while current is not None and seen < 10:
        if hasattr(current, "simulator") and hasattr(current, "sim_state"):
            return current
        current = next(
            (getattr(current, a) for a in ("vector_env", "venv", "env", "unwrapped")
             if getattr(current, a, None) is not None and getattr(current, a) is not current),
            None,
        )
        seen += 1
    raise EnvArgumentError(
        f"{type(env).__name__} exposes no simulator state; model-based heuristics "
        "(myopic_uplift, oracle) need a crm_env CRMVectorEnv or its SB3 adapter"
    )


class MyopicUpliftPolicy(HeuristicPolicy):
    """The action with the best expected profit this week, per the simulator.

    For each action ``a`` it asks ``simulator.expected_week(env.sim_state, a)`` and scores
    :func:`expected_profit`; ties go to the cheaper (lower) code, so ``none`` wins when no
    action pays. It ignores everything after this week (fatigue, habituation, the value of
    keeping a customer alive), which is exactly what a learned policy can improve on.

    Args:
        env: The CRM vector env (or its SB3 adapter) the policy acts in.
    """

    name = "myopic_uplift"

    def __init__(self, env: Any) -> None:
        self.env = _unwrap_env(env)
        self.catalog: ActionCatalog = self.env.catalog

    def action_values(self) -> np.ndarray:
        """Expected one-week profit ``float64[n, K]`` of every action for every customer."""
        sim, state = self.env.simulator, self.env.sim_state
        margin = float(self.env.config.margin)
        n = _state_rows(state)
        values = np.empty((n, len(self.catalog)), dtype=np.float64)
        for code in range(len(self.catalog)):
            p, spend = sim.expected_week(state, np.full(n, code, dtype=np.int64))
            values[:, code] = expected_profit(
                np.asarray(p, dtype=np.float64), np.asarray(spend, dtype=np.float64),
                self.catalog, code, margin,
            )
        return values

    def act(self, observation: Observation) -> np.ndarray:
        """Arg-max of :meth:`action_values` (first maximum on ties)."""
        values = self.action_values()
        if values.shape[0] != _batch_size(observation):
            raise EnvArgumentError(
                f"myopic_uplift got {_batch_size(observation)} observations but the env holds "
                f"{values.shape[0]} customers; call it on the env it was built for"
            )
        return np.argmax(values, axis=1).astype(np.int64)


def _state_rows(state: dict[str, Any]) -> int:
    for value in state.values():
        return int(value.shape[0])
    raise EnvArgumentError("the simulator state is empty; reset the env before predicting")


class OraclePolicy(MyopicUpliftPolicy):
    """One-step lookahead on the simulator's true latent state.

    For every action ``a`` the oracle scores

    ``expected profit this week under a + P(customer still reachable after the week | a) * F``

    where ``F`` is the value of the remaining weeks if the customer is left alone from next
    week on: ``v * sum_{k=1..L} (1 - delta)^k`` with ``v`` the expected weekly margin of the
    customer *while alive* (from ``expected_week`` on the latent state with ``alive`` set),
    ``delta = P(buy) * dropout_p`` the weekly death rate of the BG/NBD-type customer and
    ``L`` the weeks left after this one. "Still reachable" is the latent ``alive`` flag after
    the week and, when the env terminates episodes at opt-out, not having opted out. That
    probability is estimated by stepping ``n_samples`` copies of every customer with the
    policy's own seeded uniforms, the same uniforms for every action (common random numbers),
    so the comparison between actions is not blurred by sampling noise.

    It therefore sees what an observation-based policy cannot: who is truly dead (and
    winnable back), each customer's true rate, dropout risk, sleeping-dog status and uplift.
    It ignores what the continuation itself would gain from further actions and the future
    effect of fatigue and habituation.

    **What it bounds.** It is an upper bound on the one-step-lookahead policies that must
    *estimate* the latent state (myopic uplift with a continuation value), because it plugs
    in the truth. It is not the optimum of the full problem: it does not plan sequences of
    contacts, so a learned policy can beat it. It needs ``simulator.has_latent_state`` and a
    latent state with ``alive`` (and, for ``F``, ``dropout_p``), as the structural world has.

    Args:
        env: The CRM vector env (or its SB3 adapter); its simulator must have latent state.
        n_samples: Copies per customer for the survival estimate.
        seed: Seed of the oracle's own uniforms.
    """

    name = "oracle"

    def __init__(self, env: Any, n_samples: int = 16, seed: int = 0) -> None:
        super().__init__(env)
        sim = self.env.simulator
        if not getattr(sim, "has_latent_state", False):
            raise EnvArgumentError(
                f"the oracle needs a simulator with latent state; {type(sim).__name__} has "
                "none; use simulator kind 'structural'"
            )
        self.n_samples = n_samples
        self.rng = np.random.default_rng(seed)

    def action_values(self) -> np.ndarray:
        """One-week profit plus survival-weighted value of the remaining weeks."""
        values = super().action_values()
        sim, state = self.env.simulator, self.env.sim_state
        n, k = values.shape
        latent = sim.latent(state)
        if latent is None or "alive" not in latent:
            raise EnvArgumentError(
                f"{type(sim).__name__}.latent() has no 'alive' flag; the oracle cannot use it"
            )
        margin = float(self.env.config.margin)
        alive_state = dict(state)
        alive_state["alive"] = np.ones(n, dtype=bool)
        p_alive, spend_alive = sim.expected_week(alive_state, np.zeros(n, dtype=np.int64))
        weekly = np.asarray(spend_alive, np.float64) * margin
        dropout = np.asarray(latent.get("dropout_p", np.zeros(n)), np.float64)
        keep = np.clip(1.0 - np.asarray(p_alive, np.float64) * dropout, 0.0, 1.0 - 1e-12)
        left = np.maximum(self._weeks_left(n) - 1.0, 0.0)
        future = weekly * keep * (1.0 - keep**left) / (1.0 - keep)

        m = self.n_samples
        tiled = {key: np.repeat(np.asarray(v), m, axis=0) for key, v in state.items()}
        u = self.rng.random((n * m, sim.step_noise_dim))
        u = np.clip(u, 1e-12, 1.0 - 1e-12)
        terminate_on_optout = getattr(self.env.config, "opt_out", "terminate") == "terminate"
        for code in range(k):
            new_state, outcome = sim.step(tiled, np.full(n * m, code, dtype=np.int64), u)
            reachable = np.asarray(sim.latent(new_state)["alive"], dtype=bool)
            if terminate_on_optout:
                reachable = reachable & ~np.asarray(outcome.opted_out, dtype=bool)
            values[:, code] += reachable.reshape(n, m).mean(axis=1) * future
        return values

    def _weeks_left(self, n: int) -> np.ndarray:
        buffers = getattr(self.env, "buffers", None)
        if buffers is not None:
            col = self.env.layout.profile_index("weeks_left")
            return np.asarray(buffers.profile[:, col], dtype=np.float64)
        return np.full(n, float(self.env.config.horizon), dtype=np.float64)
