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

**Latent alive/dropout.** Besides the GRU state every customer carries ``alive``: the
probability that they have not silently lapsed (the BG/NBD idea, Fader, Hardie & Lee 2005,
learned here instead of assumed). Right after a purchase week an active customer drops out
with probability ``q``; an active one buys with probability ``p`` each week. A purchase proves the customer
active (``alive = 1``); a quiet week lowers the belief by Bayes' rule. Tracking the belief is
exactly equivalent to sampling a hidden alive flag, needs no extra randomness and lets the
forecast decay the way lapsed customers do.
"""

from __future__ import annotations

import torch
from torch import nn

WEEK_INPUTS = 3
"""Per-week generator input: purchased, log1p(count), standardised spend."""


def purchase_probability(alive: torch.Tensor, drop_logit: torch.Tensor, buy_logit: torch.Tensor,
                         last_bought: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Marginal purchase probability of a week.

    Args:
        alive: Belief that the customer is still active before the week, ``[B]``.
        drop_logit: Logit of dropping out before this week if active, ``[B]``.
        buy_logit: Logit of buying this week if active, ``[B]``.
        last_bought: Whether (or, relaxed, how much) the previous week was a purchase week;
            as in BG/NBD the customer can drop out only right after a purchase.

    Returns:
        ``(prob, alive_before, p)``: the purchase probability, the belief after the dropout
        hazard and the conditional purchase probability.
    """
    alive_before = alive * (1.0 - last_bought * torch.sigmoid(drop_logit))
    p = torch.sigmoid(buy_logit)
    return alive_before * p, alive_before, p


def alive_update(alive_before: torch.Tensor, p: torch.Tensor, bought: torch.Tensor) -> torch.Tensor:
    """Belief after observing the week; ``bought`` may be relaxed to ``[0, 1]``.

    A purchase sets the belief to 1; a quiet week gives ``a(1-p) / (1 - a p)``.
    """
    quiet = alive_before * (1.0 - p) / (1.0 - alive_before * p).clamp_min(1e-6)
    return bought + (1.0 - bought) * quiet


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
    """

    def __init__(self, profile_dim: int, n_actions: int, max_count: int, hidden: int = 48,
                 noise_dim: int = 4, head_hidden: int = 64) -> None:
        super().__init__()
        self.hidden = hidden
        self.noise_dim = noise_dim
        self.n_actions = n_actions
        self.max_count = max_count
        self.init = nn.Linear(profile_dim, hidden)
        self.gru = nn.GRU(WEEK_INPUTS + n_actions, hidden, batch_first=True)
        self.body = nn.Sequential(
            nn.Linear(hidden + n_actions + profile_dim + noise_dim, head_hidden), nn.ELU())
        # outputs: buy logit, drop logit, K count logits, K spend means, spend log-scale
        self.out = nn.Linear(head_hidden, 3 + 2 * max_count)
        with torch.no_grad():
            self.out.bias[1] = -2.0  # start with a low dropout chance after a purchase

    def initial_hidden(self, profile: torch.Tensor) -> torch.Tensor:
        """Hidden state ``[B, H]`` before the acquisition week is absorbed."""
        return torch.tanh(self.init(profile))

    def absorb(self, h: torch.Tensor, week: torch.Tensor, action_onehot: torch.Tensor) -> torch.Tensor:
        """Fold one week ``[B, 3]`` and its action ``[B, K]`` into the hidden state ``[B, H]``."""
        x = torch.cat([week, action_onehot], dim=1)
        return torch.gru_cell(x, h, self.gru.weight_ih_l0, self.gru.weight_hh_l0,
                              self.gru.bias_ih_l0, self.gru.bias_hh_l0)

    def encode(self, profile: torch.Tensor, weeks: torch.Tensor,
               actions_onehot: torch.Tensor) -> torch.Tensor:
        """Teacher-forced hidden states after each observed week.

        Args:
            profile: ``[B, P]``.
            weeks: ``[B, L, 3]`` weekly inputs, position 0 the acquisition week.
            actions_onehot: ``[B, L, K]`` action of each week.

        Returns:
            ``[B, L, H]``: state after absorbing weeks ``0..t``.
        """
        h0 = self.initial_hidden(profile).unsqueeze(0)
        out, _ = self.gru(torch.cat([weeks, actions_onehot], dim=2), h0)
        return out

    def heads(self, h: torch.Tensor, action_onehot: torch.Tensor, profile: torch.Tensor,
              z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Distribution of the coming week; works on ``[B, ...]`` or ``[B, L, ...]`` inputs.

        Returns:
            ``buy_logit`` and ``drop_logit`` ``[...]``, ``count_logits`` and ``spend_mean``
            ``[..., K]`` (standardised log-spend per count class), ``spend_log_scale`` ``[...]``.
        """
        y = self.out(self.body(torch.cat([h, action_onehot, profile, z], dim=-1)))
        k = self.max_count
        return {
            "buy_logit": y[..., 0],
            "drop_logit": y[..., 1],
            "spend_log_scale": y[..., 2].clamp(-3.0, 2.0),
            "count_logits": y[..., 3:3 + k],
            "spend_mean": y[..., 3 + k:3 + 2 * k],
        }
