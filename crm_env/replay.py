"""Episode logs back as pandas frames, customer by customer, week by week."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from gan_simulator.errors import DataError


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The recorder's metadata of an episode log (action names, margin, fingerprint...)."""
    import pyarrow.parquet as pq

    p = _check(path)
    meta = pq.read_schema(p).metadata or {}
    raw = meta.get(b"crmgym")
    if raw is None:
        raise DataError(f"{str(p)!r} is a Parquet file but not a crmgym episode log")
    return json.loads(raw)


def load_episodes(path: str | Path) -> pd.DataFrame:
    """Load an :class:`~crm_env.recorder.EpisodeRecorder` log.

    Args:
        path: The ``.parquet`` file.

    Returns:
        One row per customer-week with the recorded columns; ``action`` is a categorical of
        action names (``action_code`` keeps the integer), and ``episode_id`` numbers the
        episodes ``0..E-1`` in the order (episode, slot). Sorted by ``episode_id, week``.

    Raises:
        DataError: when the file is missing or not an episode log.
    """
    meta = read_metadata(path)
    frame = pd.read_parquet(_check(path))
    names = meta["action_names"]
    codes = frame["action"].astype("int64")
    frame = frame.rename(columns={"action": "action_code"})
    frame.insert(
        frame.columns.get_loc("action_code"),
        "action",
        pd.Categorical.from_codes(codes, categories=names),
    )
    frame.insert(0, "episode_id", frame.groupby(["episode", "slot"], sort=True).ngroup())
    return frame.sort_values(["episode_id", "week"], kind="stable").reset_index(drop=True)


def summarise_episodes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per episode: customer, weeks played, money totals, contacts and how it ended."""
    g = frame.groupby("episode_id", sort=True)
    out = g.agg(
        slot=("slot", "first"),
        customer_id=("customer_id", "first"),
        weeks=("week", "size"),
        purchases=("purchased", "sum"),
        gross_spend=("gross_spend", "sum"),
        revenue=("revenue", "sum"),
        discount_cost=("discount_cost", "sum"),
        contact_cost=("contact_cost", "sum"),
        incentive_cost=("incentive_cost", "sum"),
        reward=("reward", "sum"),
        contacts=("contact_cost", lambda s: int((s > 0).sum())),
        terminated=("terminated", "any"),
        truncated=("truncated", "any"),
    )
    return out.reset_index()


def _check(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataError(
            f"episode log {str(p)!r} does not exist; record one with crm_env.EpisodeRecorder"
        )
    return p
