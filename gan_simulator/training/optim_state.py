"""Optimiser state as flat tensors + JSON, so training checkpoints need no pickle."""

from __future__ import annotations

from typing import Any

import torch

from gan_simulator.errors import CheckpointError


def optimizer_tensors(opt: torch.optim.Optimizer, prefix: str
                      ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``opt.state_dict()`` into tensors ``prefix.<param>.<key>`` and JSON data."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{pid}.{key}"] = value.reshape(-1) if value.dim() == 0 else value
                if value.dim() == 0:
                    scalars.setdefault(str(pid), {})[key] = "scalar_tensor"
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_tensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                           prefix: str, data: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_tensors`: load the state into ``opt``."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if not name.startswith(prefix + "."):
            continue
        pid, key = name[len(prefix) + 1:].split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, entry in data.get("scalars", {}).items():
        for key, value in entry.items():
            slot = state.setdefault(int(pid), {})
            slot[key] = slot[key].reshape(()) if value == "scalar_tensor" else value
    try:
        opt.load_state_dict({"state": state, "param_groups": data["param_groups"]})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"optimiser state in the training checkpoint does not fit ({exc})") from None
