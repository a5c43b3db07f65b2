"""Loss functions as small pure functions.

* WGAN-GP (Gulrajani et al., "Improved Training of Wasserstein GANs", 2017): the critic
  minimises ``D(fake) - D(real) + lambda * (||grad D(x_hat)||_2 - 1)^2`` with ``x_hat`` a
  random per-sample interpolate of a real and a fake sample; the generator minimises
  ``-D(fake)``.
* Relaxed samples (Gumbel-sigmoid / Gumbel-softmax; Jang et al. and Maddison et al., 2017) so
  the critic's gradient reaches the purchase and count decisions.
* The supervised next-week term (TimeGAN, Yoon et al., NeurIPS 2019, uses one): the exact
  negative log-likelihood of each observed week given the customer's past, with the latent
  alive/dropout state summed out by a forward filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from gan_simulator.models.generator import alive_update, purchase_probability

_EPS = 1e-6


def gradient_penalty(critic: Callable[..., torch.Tensor], real: Sequence[torch.Tensor],
                     fake: Sequence[torch.Tensor], generator: torch.Generator | None = None
                     ) -> torch.Tensor:
    """Per-sample WGAN-GP penalty ``mean_i (||grad_x D(x_hat_i)|| - 1)^2``.

    Args:
        critic: Called with the interpolated inputs in order, returns scores ``[B]``.
        real: Real inputs, each ``[B, ...]``.
        fake: Fake inputs with the same shapes.
        generator: Torch generator for the interpolation weights.

    Returns:
        Scalar penalty (not yet multiplied by its weight).
    """
    b = real[0].shape[0]
    eps = torch.rand(b, generator=generator, device=real[0].device, dtype=real[0].dtype)
    mixed = []
    for r, f in zip(real, fake, strict=True):
        e = eps.view(b, *([1] * (r.dim() - 1)))
        mixed.append((e * r.detach() + (1 - e) * f.detach()).requires_grad_(True))
    scores = critic(*mixed)
    grads = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    sq = sum(g.reshape(b, -1).pow(2).sum(dim=1) for g in grads)
    return ((sq + 1e-12).sqrt() - 1.0).pow(2).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss ``mean D(fake) - mean D(real)`` (its negation estimates W1)."""
    return fake_scores.mean() - real_scores.mean()


def generator_adversarial_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator loss ``-mean D(fake)``."""
    return -fake_scores.mean()


def gumbel_sigmoid(logit: torch.Tensor, temperature: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Relaxed Bernoulli sample in (0, 1) with the given logit."""
    u = torch.rand(logit.shape, generator=generator, device=logit.device, dtype=logit.dtype)
    u = u.clamp(_EPS, 1 - _EPS)
    return torch.sigmoid((logit + torch.log(u) - torch.log1p(-u)) / temperature)


def gumbel_softmax(logits: torch.Tensor, temperature: float,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Relaxed one-hot sample over the last axis."""
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    g = -torch.log(-torch.log(u.clamp(_EPS, 1 - _EPS)))
    return torch.softmax((logits + g) / temperature, dim=-1)


def straight_through(soft: torch.Tensor, one_hot_axis: bool = False) -> torch.Tensor:
    """Hard sample in the forward pass, the relaxed sample's gradient in the backward pass.

    The straight-through Gumbel estimator (Jang, Gu & Poole, 2017, section 2.2): the critic
    then sees exactly binary purchases and one-hot counts, as in real data, so it cannot
    tell generated weeks apart by their in-between values.
    """
    if one_hot_axis:
        hard = torch.nn.functional.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    else:
        hard = (soft > 0.5).to(soft.dtype)
    return hard + soft - soft.detach()


def logit_of(prob: torch.Tensor) -> torch.Tensor:
    """Numerically safe ``log(p / (1 - p))``."""
    p = prob.clamp(_EPS, 1 - _EPS)
    return torch.log(p) - torch.log1p(-p)


def next_week_nll(heads: dict[str, torch.Tensor], count: torch.Tensor, spend: torch.Tensor,
                  valid: torch.Tensor, belief: torch.Tensor,
                  offsets: torch.Tensor, drop_offsets: torch.Tensor | None = None
                  ) -> dict[str, torch.Tensor]:
    """Negative log-likelihood of observed weeks ``1..L-1`` given the past.

    Args:
        heads: Output of :meth:`SequenceGenerator.heads` for states after weeks ``0..L-2``
            (each ``[B, L-1, ...]``).
        count: ``[B, L]`` observed counts (0 = no purchase), position 0 the acquisition week.
        spend: ``[B, L]`` observed standardised log-spend.
        valid: ``[B, L]`` bool, the week is observed.
        belief: ``[B, M]`` class belief after the acquisition week.
        offsets: ``[M]`` rate-class logit offsets.
        drop_offsets: ``[M]`` dropout-logit offsets of the classes (``None``: shared dropout).

    Returns:
        ``purchase``, ``count`` and ``spend`` summed NLL divided by the number of observed
        transitions, and ``total`` their sum.
    """
    target_valid = valid[:, 1:].float()
    bought = (count[:, 1:] > 0).float()
    n_weeks = target_valid.sum().clamp_min(1.0)
    alive = belief
    purchase_ll = torch.zeros((), device=count.device)
    for t in range(bought.shape[1]):
        prob, alive_before, p = purchase_probability(
            alive, heads["drop_logit"][:, t], heads["buy_logit"][:, t],
            (count[:, t] > 0).float() * float(t > 0), offsets, drop_offsets)
        y = bought[:, t]
        prob = prob.clamp(_EPS, 1 - _EPS)
        ll = y * torch.log(prob) + (1 - y) * torch.log1p(-prob)
        purchase_ll = purchase_ll + (ll * target_valid[:, t]).sum()
        alive = torch.where(target_valid[:, t, None] > 0, alive_update(alive_before, p, y), alive)
    k = heads["count_logits"].shape[-1]
    cls = (count[:, 1:].long().clamp(1, k) - 1)
    weight = bought * target_valid
    count_ll = torch.gather(F.log_softmax(heads["count_logits"], dim=-1), -1, cls[..., None])[..., 0]
    mean = torch.gather(heads["spend_mean"], -1, cls[..., None])[..., 0]
    log_scale = heads["spend_log_scale"]
    spend_ll = -0.5 * ((spend[:, 1:] - mean) / log_scale.exp()).pow(2) - log_scale
    out = {
        "purchase": -purchase_ll / n_weeks,
        "count": -(count_ll * weight).sum() / n_weeks,
        "spend": -(spend_ll * weight).sum() / n_weeks,
    }
    out["total"] = out["purchase"] + out["count"] + out["spend"]
    return out
