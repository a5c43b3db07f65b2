"""The four networks of a GAN run, built from the config and the fitted transform."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gan_simulator.models.critics import AttributeCritic, SequenceCritic
from gan_simulator.models.features import FeatureTransform
from gan_simulator.models.generator import (
    WEEK_INPUTS,
    AttributeGenerator,
    SequenceGenerator,
    alive_update,
    purchase_probability,
)
from gan_simulator.training.config import ModelConfig
from gan_simulator.training.losses import gumbel_sigmoid, gumbel_softmax, logit_of, straight_through


@dataclass
class GanNetworks:
    """Generators and critics of one run.

    Attributes:
        attribute: Attribute (profile) generator.
        sequence: Sequence generator.
        attribute_critic: Critic of profiles.
        sequence_critic: Critic of (profile, sequence) pairs.
    """

    attribute: AttributeGenerator
    sequence: SequenceGenerator
    attribute_critic: AttributeCritic
    sequence_critic: SequenceCritic

    @classmethod
    def build(cls, transform: FeatureTransform, n_actions: int, cfg: ModelConfig,
              seed: int, n_periods: int = 0) -> GanNetworks:
        """Fresh networks initialised from ``seed`` (the global torch RNG is left untouched).

        ``n_periods`` is the training panel's length, the calendar weeks that get their own
        offset when ``cfg.calendar_effects``.
        """
        p = transform.profile_dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return cls(
                attribute=AttributeGenerator(p, cfg.attribute_noise_dim, cfg.attribute_hidden),
                sequence=SequenceGenerator(p, n_actions, transform.max_count, cfg.hidden,
                                           cfg.step_noise_dim, cfg.head_hidden, cfg.rate_classes,
                                           cfg.dropout_from_state, cfg.dropout_classes,
                                           cfg.contact_pressure,
                                           n_periods if cfg.calendar_effects else 0),
                attribute_critic=AttributeCritic(p, cfg.attribute_hidden),
                sequence_critic=SequenceCritic(p, WEEK_INPUTS + n_actions + 1, cfg.critic_hidden),
            )

    def modules(self) -> dict[str, torch.nn.Module]:
        """Name -> module, the prefixes used in checkpoints."""
        return {"attribute": self.attribute, "sequence": self.sequence,
                "attribute_critic": self.attribute_critic, "sequence_critic": self.sequence_critic}

    def to(self, device: torch.device | str) -> GanNetworks:
        """Move every network to ``device`` (in place); returns ``self``."""
        for m in self.modules().values():
            m.to(device)
        return self


def critic_sequence(weeks: torch.Tensor, actions_onehot: torch.Tensor,
                    valid: torch.Tensor) -> torch.Tensor:
    """Sequence critic input ``[B, L, 3 + K + 1]``: weeks, actions and mask, zero past the end."""
    m = valid.to(weeks.dtype)[..., None]
    return torch.cat([weeks * m, actions_onehot * m, m], dim=-1)


def relaxed_rollout(gen: SequenceGenerator, profile: torch.Tensor, week0: torch.Tensor,
                    actions_onehot: torch.Tensor, temperature: float,
                    generator: torch.Generator | None, hard: bool = False,
                    first: torch.Tensor | None = None) -> torch.Tensor:
    """Free-running weeks ``[B, L, 4]`` from the acquisition week, with relaxed samples.

    Week 0 is the given acquisition week; each later week is sampled from the generator's
    heads (Gumbel-sigmoid purchase, Gumbel-softmax count, reparameterised spend) and fed back.
    Gradients flow to the generator through every sample. With ``hard=True`` the purchase
    and count samples are straight-through (exactly 0/1 and one-hot forward, relaxed gradient
    backward). ``first`` (``[B]``, panel period of week 0) places the weeks on the calendar
    for a generator with calendar weeks.
    """
    b, length, _ = actions_onehot.shape
    dev = profile.device
    log_counts = torch.log1p(torch.arange(1, gen.max_count + 1, device=dev, dtype=profile.dtype))
    ones = torch.ones(b, device=dev, dtype=profile.dtype)
    h = gen.absorb(gen.initial_hidden(profile), week0, actions_onehot[:, 0], ones)
    gap = torch.zeros(b, device=dev, dtype=profile.dtype)
    alive = gen.initial_belief(profile)
    last = torch.zeros(b, device=dev, dtype=profile.dtype)  # no dropout after the first purchase
    pressure = gen.next_pressure(gen.initial_pressure(b, dev).to(profile.dtype),
                                 actions_onehot[:, 0])
    weeks = [week0]
    for t in range(1, length):
        z = torch.randn(b, gen.noise_dim, generator=generator, device=dev)
        gap = gap + 1.0
        hd = gen.heads(h, actions_onehot[:, t], profile, z, gap, pressure,
                       None if first is None else first + t)
        pressure = gen.next_pressure(pressure, actions_onehot[:, t])
        prob, alive_before, p = purchase_probability(alive, hd["drop_logit"], hd["buy_logit"], last,
                                                     *gen.class_offsets())
        y = gumbel_sigmoid(logit_of(prob), temperature, generator)
        c = gumbel_softmax(hd["count_logits"], temperature, generator)
        if hard:
            y, c = straight_through(y), straight_through(c, one_hot_axis=True)
        eps = torch.randn(b, generator=generator, device=dev)
        spend = (c * hd["spend_mean"]).sum(-1) + hd["spend_log_scale"].exp() * eps
        week = torch.stack([y, y * (c * log_counts).sum(-1), y * spend, torch.log1p(gap)], dim=-1)
        alive, last = alive_update(alive_before, p, y), y
        event = gen.events(y, actions_onehot[:, t])
        h = gen.absorb(h, week, actions_onehot[:, t], event)
        gap = gap * (1.0 - event)
        weeks.append(week)
    return torch.stack(weeks, dim=1)


def one_hot(actions: torch.Tensor, n_actions: int) -> torch.Tensor:
    """Float one-hot of integer action codes."""
    return F.one_hot(actions.long(), n_actions).to(torch.float32)
