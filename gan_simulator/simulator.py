"""``GANSimulator``: the trained generators as a batched, week-by-week customer simulator.

It implements :class:`gan_simulator.protocol.Simulator`. All randomness comes in as uniforms
from the caller (common random numbers); every call handles the whole batch at once under
``torch.no_grad()``. Per customer the state holds the GRU hidden state ``h`` ``[n, 1, H]``, the
belief ``alive`` ``[n, M]`` that the customer has not silently lapsed (per rate class), ``last`` ``[n]`` (the previous
week had a purchase), ``gap`` ``[n]`` (weeks since the last event: a purchase, or also a
contact without ``contact_pressure``), the standardised ``profile`` ``[n, P]`` and, for a
generator with ``contact_pressure``, the decayed per-action contact counts ``pressure`` and, for
one with calendar weeks, ``calendar`` ``[n]`` (panel week of the coming week; ``-1`` = no
calendar, the average training week, which is where :meth:`draw_customers` starts new
customers; a continued real history goes on from its next panel week) — all with the
customer on axis 0, so :func:`~gan_simulator.protocol.copy_rows` works.

The weekly count (``WeekOutcome.transactions``) is the number of distinct purchase days, the
quantity the model was trained on (panel feature ``purchase_days``).

>>> sim = GANSimulator.default()
>>> draw = sim.sample_customers(3, np.random.default_rng(0))
>>> state, week = sim.step(draw.state, np.zeros(3, dtype=np.int64),
...                        np.random.default_rng(1).random((3, sim.step_noise_dim)))
>>> week.as_features().shape
(3, 3)
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.special import ndtri

from gan_simulator.actions import ActionCatalog
from gan_simulator.checkpoint import load_checkpoint, load_module_state
from gan_simulator.configuration import from_mapping
from gan_simulator.errors import CheckpointError, ConfigError, DataError, EnvArgumentError
from gan_simulator.models.features import FeatureTransform
from gan_simulator.models.generator import (
    AttributeGenerator,
    SequenceGenerator,
    alive_update,
    purchase_probability,
)
from gan_simulator.protocol import CustomerDraw, State, WeekOutcome
from gan_simulator.rng import stream_keys, uniforms
from gan_simulator.training.batches import align_history
from gan_simulator.training.config import GanConfig

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = Path(__file__).parent / "default" / "simulator.safetensors"
_STEP_CHANNELS = 3  # purchase, count class, spend
_CHUNK = 8192


class GANSimulator:
    """Batched simulator backed by a trained attribute + sequence generator.

    Build it with :meth:`load` or :meth:`default`. Attributes follow the
    :class:`~gan_simulator.protocol.Simulator` protocol; in addition ``learned_actions`` says
    whether the checkpoint was trained on a log with logged actions (if not, action effects
    come from the environment's ``ResponseModel`` through ``logit_offset`` and
    ``log_spend_offset``) and ``population`` is ``"synthetic"`` or ``"real"``.
    """

    has_latent_state = False

    def __init__(self, attribute: AttributeGenerator, sequence: SequenceGenerator,
                 transform: FeatureTransform, catalog: ActionCatalog, config: GanConfig,
                 meta: dict[str, Any], fingerprint: str, device: str = "cpu") -> None:
        self.attribute = attribute.eval()
        self.sequence = sequence.eval()
        self.transform = transform
        self.catalog = catalog
        self.config = config
        self.meta = meta
        self.device = torch.device(device)
        self.static_names: tuple[str, ...] = tuple(transform.static_names)
        self.customer_noise_dim: int = config.model.attribute_noise_dim
        self.step_noise_dim: int = _STEP_CHANNELS + config.model.step_noise_dim
        self.fingerprint: str = fingerprint
        self.learned_actions: bool = bool(meta.get("learned_actions", False))
        self.population = "synthetic"
        self._eye = torch.eye(len(catalog), device=self.device)
        self._log_counts = torch.log1p(torch.arange(1, transform.max_count + 1,
                                                    dtype=torch.float32, device=self.device))
        self._pool: dict[str, Any] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> GANSimulator:
        """Load a ``simulator.safetensors`` checkpoint written by ``crmgym gan train``.

        Raises:
            CheckpointError: wrong path, truncated file, other version or missing keys.
        """
        tensors, meta = load_checkpoint(
            path, "simulator", ("config", "transform", "catalog", "data_fingerprint"))
        try:
            config = from_mapping(GanConfig, _compatible(meta["config"]))
            transform = FeatureTransform.from_dict(meta["transform"])
            catalog = ActionCatalog.from_config(meta["catalog"])
            if not isinstance(meta["data_fingerprint"], str):
                raise TypeError(f"data_fingerprint is {meta['data_fingerprint']!r}, not a string")
        except (TypeError, KeyError, ValueError, AttributeError, ConfigError) as exc:
            raise CheckpointError(
                f"checkpoint {str(path)!r} has an unreadable header ({exc}); it is damaged or "
                "from an incompatible crmgym: train it again with `crmgym gan train`") from None
        m = config.model
        attribute = AttributeGenerator(transform.profile_dim, m.attribute_noise_dim,
                                       m.attribute_hidden)
        sequence = SequenceGenerator(transform.profile_dim, len(catalog), transform.max_count,
                                     m.hidden, m.step_noise_dim, m.head_hidden, m.rate_classes,
                                     m.dropout_from_state, m.dropout_classes, m.contact_pressure,
                                     int(meta.get("n_periods", 0)) if m.calendar_effects else 0)
        load_module_state(attribute, tensors, "attribute", path)
        load_module_state(sequence, tensors, "sequence", path)
        h = hashlib.sha256(meta["data_fingerprint"].encode())
        for key in sorted(tensors):
            h.update(key.encode())
            h.update(tensors[key].numpy().tobytes())
        return cls(attribute.to(device), sequence.to(device), transform, catalog, config, meta,
                   h.hexdigest()[:16], device)

    @classmethod
    def default(cls) -> GANSimulator:
        """The shipped CDNOW simulator (``gan_simulator/default/``; see its README)."""
        return cls.load(DEFAULT_CHECKPOINT)

    def with_real_pool(self, panel: Any) -> GANSimulator:
        """A copy whose :meth:`draw_customers` picks real customers of ``panel``.

        Each drawn customer's observed history is encoded into the generator's state, so an
        episode continues that customer's real past.
        """
        behaviour = panel_behaviour(panel, self.transform.count_feature)
        state = self.encode(behaviour, panel.mask, panel.static, panel.actions)
        twin = self._copy()
        twin.population = "real"
        twin._pool = {"state": state, "history": behaviour, "mask": np.asarray(panel.mask, bool),
                      "static": np.asarray(panel.static, np.float32)}
        return twin

    def with_population(self, population: str) -> GANSimulator:
        """``"synthetic"`` (generated customers) or ``"real"`` (the training log's customers).

        ``"real"`` works for checkpoints trained on the bundled CDNOW data; for other data
        call :meth:`with_real_pool` with the panel.
        """
        if population == "synthetic":
            twin = self._copy()
            twin._pool, twin.population = None, "synthetic"
            return twin
        if population != "real":
            raise EnvArgumentError(f"population={population!r}; choose 'synthetic' or 'real'")
        if self._pool is not None:
            return self
        from gan_simulator.data import build_panel, load_cdnow

        panel = build_panel(load_cdnow()).time_slice(0, int(self.meta.get("n_periods", 78)))
        if panel.fingerprint() != self.meta.get("data_fingerprint"):
            raise EnvArgumentError(
                "population='real' needs the customers this simulator was trained on, which "
                "are not the bundled CDNOW panel; call sim.with_real_pool(panel) with them"
            )
        return self.with_real_pool(panel)

    def _copy(self) -> GANSimulator:
        twin = object.__new__(GANSimulator)
        twin.__dict__.update(self.__dict__)
        return twin

    # ------------------------------------------------------------------ customers
    def draw_customers(self, u: np.ndarray) -> CustomerDraw:
        """Draw ``len(u)`` customers from uniforms ``u[n, customer_noise_dim]``.

        Synthetic population: the attribute generator draws each profile (static columns and
        acquisition week), which the sequence generator absorbs. Real population: ``u[:, 0]``
        picks a customer of the pool.
        """
        u = self._uniforms(u, self.customer_noise_dim, "draw_customers")
        if self._pool is not None:
            return self._draw_real(u)
        with torch.no_grad():
            z = torch.from_numpy(ndtri(u).astype(np.float32)).to(self.device)
            raw = self.attribute(z).cpu().numpy()
            static, count0, spend0 = self.transform.profile_inverse(raw)
            profile = torch.from_numpy(self.transform.profile_forward(static, count0, spend0))
            profile = profile.to(self.device)
            n = len(u)
            week0 = torch.from_numpy(self.transform.week_inputs(count0, spend0, np.zeros(n)))
            ones = torch.ones(n, device=self.device)
            h = self.sequence.initial_hidden(profile)
            h = self.sequence.absorb(h, week0.to(self.device),
                                     self._eye[torch.zeros(n, dtype=torch.long)], ones)
            alive = self.sequence.initial_belief(profile)
        state = {"h": h[:, None, :].contiguous(), "alive": alive, "last": torch.zeros_like(ones),
                 "gap": torch.zeros(n, device=self.device), "profile": profile}
        if self.sequence.pressure_dim:
            state["pressure"] = self.sequence.initial_pressure(n, self.device)
        if self.sequence.calendar_weeks:  # no calendar: the average training week
            state["calendar"] = torch.full((n,), -1, dtype=torch.long, device=self.device)
        history = np.stack([np.ones(n, np.float32), count0, spend0], axis=1)[:, None, :]
        return CustomerDraw(state, static, history, np.ones((n, 1), bool),
                            np.full(n, -1, dtype=np.int64))

    def _draw_real(self, u: np.ndarray) -> CustomerDraw:
        pool = self._pool
        assert pool is not None
        n_pool = pool["history"].shape[0]
        idx = np.minimum((u[:, 0] * n_pool).astype(np.int64), n_pool - 1)
        t_idx = torch.as_tensor(idx, device=self.device)
        state = {k: v[t_idx].clone() for k, v in pool["state"].items()}
        return CustomerDraw(state, pool["static"][idx], pool["history"][idx], pool["mask"][idx], idx)

    def sample_customers(self, n: int, generator: np.random.Generator) -> CustomerDraw:
        """Draw ``n`` customers with uniforms taken from a NumPy generator."""
        return self.draw_customers(generator.random((n, self.customer_noise_dim)))

    def encode(self, behaviour: np.ndarray, mask: np.ndarray, static: np.ndarray,
               actions: np.ndarray | None = None) -> State:
        """State after real customers' observed histories.

        Args:
            behaviour: ``[n, T, 3]`` in :data:`~gan_simulator.protocol.WEEK_FEATURES` order
                (purchased, transactions = purchase days, spend).
            mask: ``[n, T]`` observed weeks (the first ``True`` is the acquisition week).
            static: ``[n, S]`` static columns named :attr:`static_names`.
            actions: ``[n, T]`` logged action codes (default: none).
        """
        behaviour = np.asarray(behaviour, dtype=np.float32)
        mask = np.asarray(mask, dtype=bool)
        if behaviour.ndim != 3 or behaviour.shape[2] != 3 or mask.shape != behaviour.shape[:2]:
            raise DataError(
                f"encode needs behaviour [n, T, 3] and mask [n, T]; got {behaviour.shape} and "
                f"{mask.shape}")
        if not mask.any(axis=1).all():
            raise DataError("encode: every customer needs at least one observed week in mask")
        if actions is None:
            actions = np.zeros(mask.shape, dtype=np.int64)
        parts = [self._encode_chunk(behaviour[i:i + _CHUNK], mask[i:i + _CHUNK],
                                    np.asarray(static)[i:i + _CHUNK], np.asarray(actions)[i:i + _CHUNK])
                 for i in range(0, len(mask), _CHUNK)]
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    @torch.no_grad()
    def _encode_chunk(self, behaviour: np.ndarray, mask: np.ndarray, static: np.ndarray,
                      actions: np.ndarray) -> State:
        seq = self.sequence
        data = align_history(self.transform, static, behaviour[..., 1] * (behaviour[..., 0] > 0),
                             behaviour[..., 2], actions, mask,
                             contact_events=not seq.contact_pressure).to(self.device)
        aoh = self._eye[data.actions]
        states = seq.encode(data.profile, data.weeks, aoh)
        pressure = seq.pressure_series(aoh)
        n, length = data.count.shape
        alive = seq.initial_belief(data.profile)
        off, drop_off = seq.class_offsets()
        if length > 1:
            prof = data.profile[:, None, :].expand(n, length - 1, data.profile.shape[1])
            z = torch.zeros(n, length - 1, seq.noise_dim, device=self.device)
            hd = seq.heads(states[:, :-1], aoh[:, 1:], prof, z,
                           torch.expm1(data.weeks[:, 1:, 3]), pressure[:, 1:],
                           seq.record_weeks(data.first, length))
            bought = (data.count[:, 1:] > 0).float()
            for t in range(length - 1):
                _, before, p = purchase_probability(alive, hd["drop_logit"][:, t],
                                                    hd["buy_logit"][:, t], (data.count[:, t] > 0).float() * float(t > 0),
                                                    off, drop_off)
                alive = torch.where(data.valid[:, t + 1, None], alive_update(before, p, bought[:, t]),
                                    alive)
        last = (data.valid.sum(dim=1) - 1).clamp_min(0)
        rows = torch.arange(n, device=self.device)
        h = states[rows, last]
        state = {"h": h[:, None, :].contiguous(), "alive": alive,
                 "last": ((data.count[rows, last] > 0) & (last > 0)).float(),
                 "gap": torch.as_tensor(data.gap_end, dtype=torch.float32, device=self.device),
                 "profile": data.profile}
        if seq.pressure_dim:
            state["pressure"] = seq.next_pressure(pressure[rows, last], aoh[rows, last])
        if seq.calendar_weeks:  # the calendar week coming after each record
            state["calendar"] = torch.as_tensor(data.first, device=self.device) + last + 1
        return state

    # ------------------------------------------------------------------ dynamics
    def _week(self, state: State, actions: np.ndarray, z: torch.Tensor,
              logit_offset: np.ndarray | None) -> tuple[dict[str, torch.Tensor], torch.Tensor,
                                                         torch.Tensor, torch.Tensor, torch.Tensor]:
        a = torch.as_tensor(np.asarray(actions, dtype=np.int64), device=self.device)
        aoh = self._eye[a]
        hd = self.sequence.heads(state["h"][:, 0], aoh, state["profile"], z, state["gap"] + 1.0,
                                 state.get("pressure"), state.get("calendar"))
        prob, before, p = purchase_probability(state["alive"], hd["drop_logit"], hd["buy_logit"],
                                              state["last"], *self.sequence.class_offsets())
        if logit_offset is not None:
            off = torch.as_tensor(np.asarray(logit_offset, np.float32), device=self.device)
            q = prob.clamp(1e-7, 1 - 1e-7)
            prob = torch.sigmoid(torch.log(q) - torch.log1p(-q) + off)
        return hd, prob, before, p, aoh

    def _spend_params(self, hd: dict[str, torch.Tensor], cls: torch.Tensor | None,
                      log_spend_offset: np.ndarray | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (per class if ``cls`` is None) and scale of ``log1p(spend)`` in natural units."""
        tr = self.transform
        mean = hd["spend_mean"] if cls is None else hd["spend_mean"].gather(1, cls[:, None])[:, 0]
        mu = mean * tr.spend_std + tr.spend_mean
        if log_spend_offset is not None:
            off = torch.as_tensor(np.asarray(log_spend_offset, np.float32), device=self.device)
            mu = mu + (off if cls is not None else off[:, None])
        return mu, hd["spend_log_scale"].exp() * tr.spend_std

    def step(self, state: State, actions: np.ndarray, u: np.ndarray,
             logit_offset: np.ndarray | None = None,
             log_spend_offset: np.ndarray | None = None) -> tuple[State, WeekOutcome]:
        """Advance every customer one week (see :meth:`Simulator.step`).

        Args:
            state: Current state of ``n`` customers.
            actions: ``int[n]`` action codes applied this week.
            u: ``[n, step_noise_dim]`` uniforms: purchase, count, spend, then head noise.
            logit_offset: ``[n]`` added to the purchase logit before sampling.
            log_spend_offset: ``[n]`` added to ``log1p(spend)`` before sampling.
        """
        u = self._uniforms(u, self.step_noise_dim, "step", len(state["alive"]))
        with torch.no_grad():
            normals = torch.from_numpy(ndtri(u).astype(np.float32)).to(self.device)
            uu = torch.from_numpy(u[:, :2].astype(np.float32)).to(self.device)
            hd, prob, before, p, aoh = self._week(state, actions, normals[:, 3:], logit_offset)
            bought = (uu[:, 0] < prob).float()
            cdf = torch.softmax(hd["count_logits"], dim=1).cumsum(dim=1)
            cls = (uu[:, 1:2] > cdf).sum(dim=1).clamp_max(self.transform.max_count - 1)
            mu, scale = self._spend_params(hd, cls, log_spend_offset)
            log_spend = (mu + scale * normals[:, 2]).clamp_min(0.0)
            spend_std = (log_spend - self.transform.spend_mean) / self.transform.spend_std
            gap = state["gap"] + 1.0
            week = torch.stack([bought, bought * self._log_counts[cls], bought * spend_std,
                                torch.log1p(gap)], 1)
            alive = alive_update(before, p, bought)
            event = self.sequence.events(bought, aoh)
            h = self.sequence.absorb(state["h"][:, 0], week, aoh, event)
            pressure = state.get("pressure")
            if pressure is not None:
                pressure = self.sequence.next_pressure(pressure, aoh)
        new_state = {"h": h[:, None, :], "alive": alive, "last": bought,
                     "gap": gap * (1.0 - event), "profile": state["profile"]}
        if pressure is not None:
            new_state["pressure"] = pressure
        if "calendar" in state:
            new_state["calendar"] = torch.where(state["calendar"] >= 0, state["calendar"] + 1,
                                                state["calendar"])
        b = bought.cpu().numpy() > 0
        outcome = WeekOutcome(
            purchased=b,
            transactions=np.where(b, (cls + 1).cpu().numpy(), 0).astype(np.float32),
            spend=np.where(b, torch.expm1(log_spend).cpu().numpy(), 0.0).astype(np.float32),
            opted_out=np.zeros(len(b), dtype=bool),
        )
        return new_state, outcome

    def expected_week(self, state: State, actions: np.ndarray,
                      logit_offset: np.ndarray | None = None,
                      log_spend_offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Purchase probability and expected list-price spend (0 in no-purchase weeks).

        The head noise is set to its mean (0); the state is not changed.
        """
        n = len(state["alive"])
        with torch.no_grad():
            z = torch.zeros(n, self.sequence.noise_dim, device=self.device)
            hd, prob, _, _, _ = self._week(state, actions, z, logit_offset)
            mu, scale = self._spend_params(hd, None, log_spend_offset)
            per_class = torch.expm1(mu + 0.5 * scale[:, None] ** 2)
            spend = (torch.softmax(hd["count_logits"], dim=1) * per_class).sum(dim=1)
        return prob.cpu().numpy().astype(np.float64), (prob * spend).cpu().numpy().astype(np.float64)

    def expected_count(self, state: State, actions: np.ndarray,
                       head_noise: np.ndarray | None = None) -> np.ndarray:
        """Expected number of purchase days this week (0 in no-purchase weeks).

        Args:
            state: Current state.
            actions: ``int[n]`` action codes.
            head_noise: The week's ``[n, step_noise_dim]`` uniforms: the expectation is then
                over the purchase and count draws *given* the head noise those uniforms
                carry (what :meth:`step` would use), which averages to the exact expectation
                over sample paths. ``None`` sets the head noise to its mean (0), which is
                biased wherever the heads are nonlinear in the noise.
        """
        n = len(state["alive"])
        with torch.no_grad():
            if head_noise is None:
                z = torch.zeros(n, self.sequence.noise_dim, device=self.device)
            else:
                u = self._uniforms(head_noise, self.step_noise_dim, "expected_count", n)
                z = torch.from_numpy(ndtri(u[:, 3:]).astype(np.float32)).to(self.device)
            hd, prob, _, _, _ = self._week(state, actions, z, None)
            mean_count = (torch.softmax(hd["count_logits"], 1) * (self._log_counts.expm1())).sum(1)
        return (prob * mean_count).cpu().numpy()

    def latent(self, state: State) -> None:
        """The GAN has no interpretable ground-truth latent state; always ``None``."""
        return None

    # ------------------------------------------------------------------ whole panels
    def generate(self, n: int, periods: int, seed: int) -> dict[str, np.ndarray]:
        """A synthetic panel of ``n`` new customers over ``periods`` periods, with no action.

        Each customer joins at its generated ``cohort_period`` (period 0 when the static
        profile has none) and is simulated from there on.

        Returns:
            ``static [n,S]``, ``behaviour [n,T,3]`` (WEEK_FEATURES order), ``mask [n,T]``,
            ``actions [n,T]``.
        """
        keys = stream_keys(seed, np.arange(n), np.zeros(n, dtype=np.int64))
        draw = self.draw_customers(uniforms(keys, 0, self.customer_noise_dim))
        if "cohort_period" in self.static_names:
            start = draw.static[:, self.static_names.index("cohort_period")].astype(np.int64)
        else:
            start = np.zeros(n, dtype=np.int64)
        start = np.clip(start, 0, periods - 1)
        local = np.zeros((n, periods, 3), np.float32)
        local[:, 0] = draw.history[:, -1]
        state = draw.state
        if "calendar" in state:  # customer i's week t is panel week start[i] + t
            state["calendar"] = torch.as_tensor(start + 1, device=self.device)
        none = np.zeros(n, dtype=np.int64)
        for t in range(1, periods - int(start.min())):
            state, out = self.step(state, none, uniforms(keys, t, self.step_noise_dim))
            local[:, t] = out.as_features()
        pos = np.arange(periods)[None, :] - start[:, None]
        mask = pos >= 0
        behaviour = local[np.arange(n)[:, None], np.clip(pos, 0, periods - 1)] * mask[..., None]
        return {"static": draw.static, "behaviour": behaviour.astype(np.float32), "mask": mask,
                "actions": np.zeros((n, periods), dtype=np.int16)}

    def forecast(self, panel: Any, horizon: int, n_samples: int, seed: int) -> np.ndarray:
        """Expected purchase days per week after each customer's observed history.

        Every customer's real history in ``panel`` is encoded, then continued ``horizon``
        weeks with no action, ``n_samples`` sample paths each. Along each path the expected
        count of the coming week is accumulated before the week is sampled (a Rao-Blackwell
        average, lower variance than counting sampled purchases).

        Returns:
            ``float64[N, horizon]``.
        """
        if horizon < 1 or n_samples < 1:
            raise DataError(f"forecast needs horizon >= 1 and n_samples >= 1, got {horizon}, {n_samples}")
        behaviour = panel_behaviour(panel, self.transform.count_feature)
        state0 = self.encode(behaviour, panel.mask, panel.static, panel.actions)
        n = len(behaviour)
        out = np.zeros((n, horizon))
        per = max(1, _CHUNK // n_samples)
        for lo in range(0, n, per):
            hi = min(n, lo + per)
            rows = torch.arange(lo, hi, device=self.device).repeat_interleave(n_samples)
            state = {k: v[rows] for k, v in state0.items()}
            m = len(rows)
            ids = np.arange(lo * n_samples, hi * n_samples)
            keys = stream_keys(seed, ids, np.zeros(m, dtype=np.int64))
            none = np.zeros(m, dtype=np.int64)
            for t in range(horizon):
                u = uniforms(keys, t + 1, self.step_noise_dim)
                expected = self.expected_count(state, none, head_noise=u)
                out[lo:hi, t] = expected.reshape(hi - lo, n_samples).mean(1)
                state, _ = self.step(state, none, u)
        return out

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _uniforms(u: np.ndarray, dim: int, where: str, n: int | None = None) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != dim or (n is not None and u.shape[0] != n):
            raise EnvArgumentError(
                f"{where}: uniforms must have shape ({n if n is not None else 'n'}, {dim}), got "
                f"{u.shape}; draw them with gan_simulator.rng.uniforms(keys, counter, {dim})")
        return u


def _compatible(config: Any) -> Any:
    """A stored config, completed for options added after it was written.

    Options whose default for new training runs differs from what older checkpoints did load
    with the old behaviour: ``model.contact_pressure`` (older generators treat contacts as
    events) and ``model.calendar_effects`` (older generators have no calendar weeks) are
    ``False`` when absent.
    """
    if isinstance(config, dict) and isinstance(config.get("model"), dict):
        model = dict(config["model"])
        model.setdefault("contact_pressure", False)
        model.setdefault("calendar_effects", False)
        config = {**config, "model": model}
    return config


def panel_behaviour(panel: Any, count_feature: str) -> np.ndarray:
    """``[N, T, 3]`` (purchased, count, spend) of a panel, count = ``count_feature``."""
    count = panel.feature(count_feature)
    return np.stack([(count > 0).astype(np.float32), count, panel.feature("spend")], axis=2)
