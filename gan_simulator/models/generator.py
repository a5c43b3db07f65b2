"""Generators: a customer's static profile, then their weeks one at a time.

The decomposition follows DoppelGANger (Lin et al., IMC 2020): an *attribute generator* draws
the static profile, and a recurrent *sequence generator* conditioned on it emits the weekly
behaviour. The sequence generator is written as two small primitives so that one model serves
training (teacher-forced or free-running) and the batched simulator alike:

* :meth:`SequenceGenerator.heads` maps (hidden state, the action of the coming week, profile,
  fresh noise) to the distribution of that week: a purchase logit for a customer who is still
  active, a dropout logit, purchase-day classes ``1..K`` and log-spend per class.
* :meth:`SequenceGenerator.absorb` folds the week that happened (and its action) into the
  hidden state, so the state is driven by the customer's past — real or generated.

**Event-driven state.** The GRU absorbs only *events*: weeks with a purchase or a contact,
together with the gap in weeks since the previous event. A quiet week leaves the hidden state
untouched, so the purchase rate of an active customer does not drift with the mere passage of
time — silence is explained by the alive belief below, which is what lets the model
extrapolate beyond the weeks it was trained on (a GRU that counts quiet weeks only knows
recencies it has seen). The heads do see the gap since the last event, but only through
fading features ``exp(-gap / tau)`` for ``tau`` in :data:`RECENCY_SCALES`: short-term
repurchase ("clumpiness") can be learned, while long gaps all look alike, so forecasts far
beyond the training window neither drift nor explode.

**Contacts: events or pressure.** With ``contact_pressure=False`` a contact week is an
event like a purchase week (the GRU absorbs it and the gap restarts). With
``contact_pressure=True`` only purchases are events and the contact history reaches the heads
as explicit *pressure* features: per action, exponentially decayed counts of the weeks it was
sent (time constants :data:`PRESSURE_SCALES`), the learned analogue of contact fatigue and
discount habituation. Under a randomised logging policy nearly every logged customer is
contacted every few weeks, so with contact events a policy that contacts *less* than the log
(doing nothing for months) drives the GRU into states it never saw; with pressure features
"no recent contact" is simply pressure 0, which the log shows at every customer's start.

**Latent alive/dropout and rate classes.** Besides the GRU state every customer carries a
belief ``alive[m]``: the probability that they have not silently lapsed *and* belong to rate
class ``m`` (the BG/NBD idea, Fader, Hardie & Lee 2005, with its gamma-distributed purchase
rate replaced by ``M`` learned classes whose logits add ``offsets[m]`` to the generator's
purchase logit). Right after a purchase week an active customer drops out with probability
``q``; an active one in class ``m`` buys with probability ``p_m``. Observed weeks update the
belief by Bayes' rule: a purchase proves the customer active, silence shifts mass towards
slow classes and towards "lapsed". Tracking the belief is exactly equivalent to sampling
hidden flags, needs no extra randomness, and lets the forecast decay the way lapsed
customers do while slow-but-alive customers keep buying.

**Calendar weeks** (``calendar_weeks``; on in training runs by default through
``model.calendar_effects``). Purchases in a real log rise and
fall with the calendar (seasons, holidays, the shop's own campaigns), and all customers of a
panel share that calendar. A model without it must explain a quiet stretch of the training
weeks by individual customers lapsing or slowing down, and carries that into every forecast.
With it each training week ``w`` gets a learned purchase-logit offset shared by every
customer, centred so that the offsets average zero; weeks outside the training panel (a
forecast, a new env customer) use ``0``, the average training week.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

WEEK_INPUTS = 4
"""Per-week generator input: purchased, log1p(count), standardised spend, log1p(gap weeks)."""


RECENCY_SCALES: tuple[float, ...] = (1.0, 3.0, 8.0)
"""Time constants (weeks) of the fading recency features given to the output heads."""


PRESSURE_SCALES: tuple[float, ...] = (1.0, 4.0)
"""Time constants (weeks) of the decayed per-action contact counts (``contact_pressure``)."""


def event_weight(bought: torch.Tensor, action_onehot: torch.Tensor) -> torch.Tensor:
    """1 for a week with a purchase or a contact (any action but ``none``), else 0.

    Relaxed purchases give a value in ``[0, 1]``.
    """
    contacted = 1.0 - action_onehot[..., 0]
    return bought + contacted - bought * contacted


def purchase_probability(alive: torch.Tensor, drop_logit: torch.Tensor, buy_logit: torch.Tensor,
                         last_bought: torch.Tensor, offsets: torch.Tensor,
                         drop_offsets: torch.Tensor | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Marginal purchase probability of a week.

    Args:
        alive: Belief ``[B, M]`` that the customer is active and in rate class ``m`` before
            the week (the rest, ``1 - sum``, is the belief that they have lapsed).
        drop_logit: Logit of dropping out right after a purchase week, ``[B]``.
        buy_logit: Base logit of buying this week if active, ``[B]``.
        last_bought: Whether (or, relaxed, how much) the previous week was a *repeat*
            purchase week; as in BG/NBD the customer can drop out only right after a repeat
            purchase (never right after the first one), so callers pass 0 after the
            acquisition week.
        offsets: ``[M]`` logit offsets of the rate classes.
        drop_offsets: ``[M]`` offsets of each class's dropout logit (BG/NBD's heterogeneous
            dropout probability: customers who keep buying shift towards low-dropout
            classes); ``None`` = the same dropout for every class.

    Returns:
        ``(prob [B], alive_before [B, M], p [B, M])``: the purchase probability, the belief
        after the dropout chance and the purchase probability of each active class.
    """
    drop = drop_logit[..., None] if drop_offsets is None else drop_logit[..., None] + drop_offsets
    alive_before = alive * (1.0 - last_bought[..., None] * torch.sigmoid(drop))
    p = torch.sigmoid(buy_logit[..., None] + offsets)
    return (alive_before * p).sum(-1), alive_before, p


def alive_update(alive_before: torch.Tensor, p: torch.Tensor, bought: torch.Tensor) -> torch.Tensor:
    """Belief ``[B, M]`` after observing the week; ``bought`` ``[B]`` may be relaxed to ``[0, 1]``.

    Bayes' rule: a purchase proves the customer active and reweights the classes by ``p``;
    a quiet week reweights them by ``1 - p`` and moves mass towards "lapsed".
    """
    joint = alive_before * p
    prob = joint.sum(-1, keepdim=True)
    after_buy = joint / prob.clamp_min(1e-12)
    after_quiet = (alive_before - joint) / (1.0 - prob).clamp_min(1e-6)
    b = bought[..., None]
    belief = b * after_buy + (1.0 - b) * after_quiet
    # rounding can push the total a hair above 1 (e.g. a customer who never had a dropout
    # chance); a belief is a sub-probability vector, so cap its total at exactly 1
    return belief / belief.sum(-1, keepdim=True).clamp_min(1.0)


class AttributeGenerator(nn.Module):
    """Noise -> standardised customer profile (static columns + acquisition week).

    Args:
        profile_dim: Width of the profile.
        noise_dim: Width of the input noise.
        hidden: Width of the two hidden layers.
    """

    def __init__(self, profile_dim: int, noise_dim: int = 8, hidden: int = 64) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.net = nn.Sequential(
            nn.Linear(noise_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, profile_dim),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Profiles ``[B, profile_dim]`` from noise ``[B, noise_dim]``."""
        return self.net(z)


class SequenceGenerator(nn.Module):
    """Action-conditioned recurrent generator of weekly behaviour.

    Args:
        profile_dim: Width of the standardised profile.
        n_actions: Size of the action catalogue (one-hot width).
        max_count: Number of purchase-day classes ``1..max_count``.
        hidden: GRU width.
        noise_dim: Fresh noise per week fed to the output heads.
        head_hidden: Width of the output MLP.
        rate_classes: Number ``M`` of latent purchase-rate classes.
        dropout_from_state: Let the dropout logit depend on the hidden state and the week's
            inputs (``True``), or only on the static profile and the latent class
            (``False``; BG/NBD's customer-constant dropout probability).
        dropout_classes: ``0``: each rate class has its own dropout offset (``M`` classes).
            ``D > 0``: the latent class is a (rate, dropout) pair on a ``rate_classes x D``
            grid, so purchase rate and dropout vary independently, as BG/NBD's Gamma rate
            and Beta dropout do (``M = rate_classes * D``).
        contact_pressure: Contacts reach the heads as decayed per-action counts and are not
            GRU events (see the module docstring); ``False`` makes every contact an event.
        calendar_weeks: ``C > 0`` learns a purchase-logit offset for each of the first ``C``
            calendar weeks of the training panel (see :meth:`calendar_offset`); ``0``: none.
    """

    def __init__(self, profile_dim: int, n_actions: int, max_count: int, hidden: int = 48,
                 noise_dim: int = 4, head_hidden: int = 64, rate_classes: int = 4,
                 dropout_from_state: bool = True, dropout_classes: int = 0,
                 contact_pressure: bool = False, calendar_weeks: int = 0) -> None:
        super().__init__()
        self.calendar_weeks = int(calendar_weeks)
        if self.calendar_weeks:
            self.season = nn.Parameter(torch.zeros(self.calendar_weeks))
        self.contact_pressure = contact_pressure
        self.pressure_dim = (n_actions - 1) * len(PRESSURE_SCALES) if contact_pressure else 0
        decay = torch.exp(-1.0 / torch.tensor(PRESSURE_SCALES)).repeat(max(n_actions - 1, 0))
        self.register_buffer("pressure_decay", decay, persistent=False)
        self.hidden = hidden
        self.noise_dim = noise_dim
        self.n_actions = n_actions
        self.max_count = max_count
        self.dropout_classes = dropout_classes
        self.n_classes = rate_classes * max(dropout_classes, 1)
        self.init = nn.Linear(profile_dim, hidden)
        self.prior = nn.Linear(profile_dim, self.n_classes)
        self.rate_offsets = nn.Parameter(torch.linspace(-2.0, 2.0, rate_classes))
        if dropout_classes:
            self.drop_offsets = nn.Parameter(torch.linspace(-1.5, 1.5, dropout_classes))
        else:
            # alternate high/low dropout so that classes differ in both rate and dropout
            self.drop_offsets = nn.Parameter(
                torch.tensor([1.0 if i % 2 else -1.0 for i in range(rate_classes)]))
        self.gru = nn.GRU(WEEK_INPUTS + n_actions, hidden, batch_first=True)
        self.body = nn.Sequential(
            nn.Linear(hidden + n_actions + profile_dim + noise_dim + len(RECENCY_SCALES)
                      + self.pressure_dim, head_hidden), nn.ELU())
        self.register_buffer("inv_scales", 1.0 / torch.tensor(RECENCY_SCALES), persistent=False)
        # outputs: buy logit, drop logit, K count logits, K spend means, spend log-scale
        self.out = nn.Linear(head_hidden, 3 + 2 * max_count)
        self.drop = None if dropout_from_state else nn.Linear(profile_dim, 1)
        with torch.no_grad():
            self.out.bias[1] = -2.0  # start with a low dropout chance after a purchase
            if self.drop is not None:
                self.drop.bias.fill_(-2.0)

    def class_offsets(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Purchase-logit and dropout-logit offsets of the ``M`` latent classes (``[M]`` each)."""
        if not self.dropout_classes:
            return self.rate_offsets, self.drop_offsets
        d = self.dropout_classes
        return self.rate_offsets.repeat_interleave(d), self.drop_offsets.repeat(len(self.rate_offsets))

    def calendar_offset(self, week: torch.Tensor) -> torch.Tensor:
        """Purchase-logit offset of calendar ``week`` (panel period index, any shape).

        The offsets are centred on their mean over the training weeks, so a week outside them
        (before, after, or a customer with no calendar, e.g. a new env customer) gets ``0``:
        the average training week. Without calendar weeks every offset is ``0``.
        """
        if not self.calendar_weeks:
            return torch.zeros(week.shape, device=week.device)
        inside = (week >= 0) & (week < self.calendar_weeks)
        centred = self.season - self.season.mean()
        return torch.where(inside, centred[week.long().clamp(0, self.calendar_weeks - 1)],
                           torch.zeros((), device=week.device))

    def record_weeks(self, first: torch.Tensor | np.ndarray, length: int) -> torch.Tensor:
        """``[B, length - 1]`` panel weeks of positions ``1..length-1`` of aligned records.

        ``first`` is each record's panel week at position 0 (``AlignedHistory.first``), so
        column ``t`` is panel week ``first + t + 1``, the week that heads computed from
        position ``t`` predict (pass it as their ``calendar``).
        """
        device = self.rate_offsets.device
        return torch.as_tensor(first, device=device)[:, None] + torch.arange(
            1, length, device=device)

    def events(self, bought: torch.Tensor, action_onehot: torch.Tensor) -> torch.Tensor:
        """Weeks the GRU absorbs: purchases, plus contacts unless ``contact_pressure``."""
        return bought if self.contact_pressure else event_weight(bought, action_onehot)

    def initial_pressure(self, n: int, device: torch.device | str | None = None) -> torch.Tensor:
        """Contact pressure ``[n, pressure_dim]`` of a customer never contacted (zeros)."""
        return torch.zeros(n, self.pressure_dim, device=device)

    def next_pressure(self, pressure: torch.Tensor, action_onehot: torch.Tensor) -> torch.Tensor:
        """Pressure entering next week, after this week's action ``[..., K]`` was sent."""
        if not self.pressure_dim:
            return pressure
        sent = action_onehot[..., 1:].repeat_interleave(len(PRESSURE_SCALES), dim=-1)
        return pressure * self.pressure_decay + sent

    def pressure_series(self, actions_onehot: torch.Tensor) -> torch.Tensor:
        """``[B, L, pressure_dim]``: the pressure entering each week of ``actions_onehot``."""
        b, length, _ = actions_onehot.shape
        if not self.pressure_dim:
            return actions_onehot.new_zeros(b, length, 0)
        p = self.initial_pressure(b, actions_onehot.device).to(actions_onehot.dtype)
        out = []
        for t in range(length):
            out.append(p)
            p = self.next_pressure(p, actions_onehot[:, t])
        return torch.stack(out, dim=1)

    def initial_hidden(self, profile: torch.Tensor) -> torch.Tensor:
        """Hidden state ``[B, H]`` before the acquisition week is absorbed."""
        return torch.tanh(self.init(profile))

    def initial_belief(self, profile: torch.Tensor) -> torch.Tensor:
        """Class belief ``[B, M]`` of a newly acquired (hence active) customer."""
        return torch.softmax(self.prior(profile), dim=-1)

    def absorb(self, h: torch.Tensor, week: torch.Tensor, action_onehot: torch.Tensor,
               event: torch.Tensor) -> torch.Tensor:
        """Fold one week ``[B, 4]`` and its action ``[B, K]`` into the hidden state ``[B, H]``.

        Only events change the state: ``h + event * (GRU(x, h) - h)``.
        """
        x = torch.cat([week, action_onehot], dim=1)
        new = torch.gru_cell(x, h, self.gru.weight_ih_l0, self.gru.weight_hh_l0,
                             self.gru.bias_ih_l0, self.gru.bias_hh_l0)
        return h + event[:, None] * (new - h)

    def encode(self, profile: torch.Tensor, weeks: torch.Tensor,
               actions_onehot: torch.Tensor) -> torch.Tensor:
        """Teacher-forced hidden states after each observed week.

        Args:
            profile: ``[B, P]``.
            weeks: ``[B, L, 4]`` weekly inputs, position 0 the acquisition week (zeros for
                weeks past the end of a record).
            actions_onehot: ``[B, L, K]`` action of each week.

        Returns:
            ``[B, L, H]``: state after absorbing weeks ``0..t``.
        """
        h = self.initial_hidden(profile)
        events = self.events(weeks[..., 0], actions_onehot)
        events[:, 0] = 1.0
        out = []
        for t in range(weeks.shape[1]):
            h = self.absorb(h, weeks[:, t], actions_onehot[:, t], events[:, t])
            out.append(h)
        return torch.stack(out, dim=1)

    def heads(self, h: torch.Tensor, action_onehot: torch.Tensor, profile: torch.Tensor,
              z: torch.Tensor, gap: torch.Tensor, pressure: torch.Tensor | None = None,
              calendar: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Distribution of the coming week; works on ``[B, ...]`` or ``[B, L, ...]`` inputs.

        ``gap`` (``[B]`` or ``[B, L]``) is the number of weeks from the last event to the
        coming week (>= 1); ``pressure`` (``[..., pressure_dim]``) the contact pressure entering
        it (ignored without ``contact_pressure``; ``None`` means no contact so far);
        ``calendar`` (shaped like ``gap``) its panel week, whose :meth:`calendar_offset` is
        added to the purchase logit (``None``: the average training week).

        Returns:
            ``buy_logit`` and ``drop_logit`` ``[...]``, ``count_logits`` and ``spend_mean``
            ``[..., K]`` (standardised log-spend per count class), ``spend_log_scale`` ``[...]``.
        """
        fade = torch.exp(-gap[..., None] * self.inv_scales)
        parts = [h, action_onehot, profile, z, fade]
        if self.pressure_dim:
            parts.append(pressure if pressure is not None
                         else fade.new_zeros(*fade.shape[:-1], self.pressure_dim))
        y = self.out(self.body(torch.cat(parts, dim=-1)))
        k = self.max_count
        drop = y[..., 1] if self.drop is None else self.drop(profile)[..., 0].expand_as(y[..., 1])
        buy = y[..., 0]
        if calendar is not None and self.calendar_weeks:
            buy = buy + self.calendar_offset(calendar)
        return {
            "buy_logit": buy,
            "drop_logit": drop,
            "spend_log_scale": y[..., 2].clamp(-3.0, 2.0),
            "count_logits": y[..., 3:3 + k],
            "spend_mean": y[..., 3 + k:3 + 2 * k],
        }
