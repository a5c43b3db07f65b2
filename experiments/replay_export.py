"""Record a policy's episodes to Parquet for replay (``crmgym replay export``).

Every customer-week of ``customers`` episodes is written by :class:`crm_env.EpisodeRecorder`;
with ``explain=True`` a learned policy's three strongest reasons (see :mod:`agents.explain`)
are added per decision in a ``why`` column. Two exports with the same seed hold the same
customers with the same luck in the same slots, so one customer's episode under two policies
is a counterfactual twin (:func:`crm_env.replay.twin`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crm_env import CRMVectorEnv, EpisodeRecorder
from gan_simulator.io import atomic_path


def export_episodes(
    policy: str,
    out: str | Path,
    customers: int = 100,
    seed: int = 0,
    simulator: Any = "gan",
    env_config: Any = None,
    explain: bool = True,
) -> Path:
    """Run ``policy`` for one episode on each of ``customers`` slots and record every week.

    Args:
        policy: Policy spec (``model:<folder>`` or a heuristic, see :mod:`agents.policies`).
        out: Target ``.parquet`` path (written atomically).
        customers: Customers (slots) recorded side by side.
        seed: Root seed; the same seed gives the same customers and luck to every policy.
        simulator: Anything ``CRMVectorEnv(simulator=...)`` accepts.
        env_config: Environment settings.
        explain: Add a ``why`` column for learned policies.

    Returns:
        The written path.
    """
    from agents.explain import attribute
    from agents.policies import load_policy

    out = Path(out)
    base = CRMVectorEnv(num_envs=customers, simulator=simulator, config=env_config, seed=seed)
    reasons: list[list[str]] = []
    with EpisodeRecorder(base, out) as env:
        pol = load_policy(policy, base)
        obs, _ = env.reset(seed=seed)
        state = None
        starts = np.ones(customers, dtype=bool)
        for _ in range(base.config.horizon):
            actions, state = pol.predict(obs, state=state, episode_start=starts, deterministic=True)
            actions = np.asarray(actions, dtype=np.int64).reshape(-1)
            if explain:
                attr = attribute(pol, obs, actions, base.layout)
                reasons.append(attr.top(3) if attr is not None else [f"rule: {policy}"] * customers)
            obs, _, terminated, truncated, _ = env.step(actions)
            starts = terminated | truncated
    if explain:
        _add_column(out, "why", np.concatenate(reasons))
    return out


def _add_column(path: Path, name: str, values: np.ndarray) -> None:
    """Append a column to a recorded log (same row order), keeping its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    table = table.append_column(name, pa.array(values.astype(str)))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
