"""Why did the policy choose this action? Gradient x input attributions per decision.

For a learned policy we take the score of the chosen action — the logit of the policy's
action distribution (PPO, A2C, RecurrentPPO) or its Q-value (DQN) — and compute
``gradient x (input - reference)`` with respect to every observation feature (Simonyan et al.
2014; Shrikumar et al. 2017, "gradient * input"). The reference is the average observation
seen in training when the model normalised its inputs (so an attribution says how much this
customer's deviation from the average customer pushed the decision), and zero otherwise.
History attributions are summed over the weeks of the window, giving one number per named
feature. It is a first-order (local, linear) explanation: exact for linear scores, an
approximation otherwise; it does not account for interactions between features.

Heuristic policies explain themselves by their rule and get no attributions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class Attribution:
    """Attributions of a batch of decisions.

    Attributes:
        names: Feature names: ``history:<name>`` for each history feature (summed over weeks)
            then ``profile:<name>`` for each profile feature.
        values: ``float32[n, len(names)]``: contribution of each feature to the chosen
            action's score (positive pushes towards the action).
        actions: ``int64[n]`` the explained actions.
    """

    names: tuple[str, ...]
    values: np.ndarray
    actions: np.ndarray

    def top(self, k: int = 3) -> list[str]:
        """Per decision, the ``k`` strongest features as ``"name (+0.12)"`` strings."""
        order = np.argsort(-np.abs(self.values), axis=1)[:, :k]
        return [
            ", ".join(f"{self.names[j]} ({self.values[i, j]:+.2f})" for j in row)
            for i, row in enumerate(order)
        ]


def _scores(model: Any, obs: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-action scores ``[n, K]`` of an SB3 model's policy, differentiable in ``obs``."""
    policy = model.policy
    if hasattr(policy, "q_net"):  # DQN
        return policy.q_net(obs)
    if hasattr(policy, "lstm_actor"):  # RecurrentPPO: explain from a fresh memory
        n = next(iter(obs.values())).shape[0]
        layers, hidden = policy.lstm_actor.num_layers, policy.lstm_actor.hidden_size
        zeros = torch.zeros(layers, n, hidden, device=policy.device)
        starts = torch.ones(n, device=policy.device)
        dist, _ = policy.get_distribution(obs, (zeros, zeros), starts)
        return dist.distribution.logits
    return policy.get_distribution(obs).distribution.logits


def attribute(
    policy: Any, observation: dict[str, np.ndarray], actions: np.ndarray, layout: Any
) -> Attribution | None:
    """Gradient x input attributions of ``actions`` for a batch of observations.

    Args:
        policy: A :class:`agents.policies.TrainedPolicy` (anything else returns ``None``).
        observation: Batched ``Dict`` observation as the env returns it (not normalised).
        actions: The actions to explain, ``int[n]``.
        layout: The env's :class:`crm_env.ObservationLayout` (feature names).
    """
    model = getattr(policy, "model", None)
    if model is None or not hasattr(model, "policy"):
        return None
    normalizer = getattr(policy, "normalizer", None)
    obs = normalizer(observation) if normalizer is not None else observation
    device = model.policy.device
    tensors = {
        k: torch.as_tensor(np.asarray(v), dtype=torch.float32, device=device).requires_grad_(True)
        for k, v in obs.items()
    }
    model.policy.set_training_mode(False)
    with torch.enable_grad():
        scores = _scores(model, tensors)
        idx = torch.as_tensor(np.asarray(actions, dtype=np.int64), device=device)
        chosen = scores.gather(1, idx[:, None]).sum()
        chosen.backward()
    hist = (tensors["history"].grad * tensors["history"]).sum(dim=1).detach().cpu().numpy()
    prof = (tensors["profile"].grad * tensors["profile"]).detach().cpu().numpy()
    names = tuple(f"history:{n}" for n in layout.history_names) + tuple(
        f"profile:{n}" for n in layout.profile_names
    )
    return Attribution(names, np.concatenate([hist, prof], axis=1).astype(np.float32),
                       np.asarray(actions, dtype=np.int64))
