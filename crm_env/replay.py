"""Episode logs back as pandas frames, customer by customer, week by week.

>>> import tempfile, pathlib, numpy as np
>>> from crm_env import CRMVectorEnv, EpisodeRecorder
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for name, action in (("none", 0), ("email", 1)):
...     with EpisodeRecorder(CRMVectorEnv(3, "structural", seed=5, horizon=4), d / f"{name}.parquet") as env:
...         _ = env.reset(seed=5)
...         for _ in range(4):
...             _ = env.step(np.full(3, action))
>>> a, b = load_episodes(d / "none.parquet"), load_episodes(d / "email.parquet")
>>> list(customer_episode(a, slot=1)["action"].unique())
['none']
>>> t = twin(a, b, slot=1)
>>> list(t["action_a"].unique()), list(t["action_b"].unique()), len(t)
(['none'], ['email'], 4)
"""

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


WEEK_COLUMNS: tuple[str, ...] = (
    "week",
    "recency_weeks",
    "frequency",
    "contacts_last_4w",
    "action",
    "purchased",
    "gross_spend",
    "revenue",
    "discount_cost",
    "contact_cost",
    "incentive_cost",
    "reward",
)
"""What :func:`customer_episode` shows per week: state summary, action, outcome, money."""


def customer_episode(frame: pd.DataFrame, slot: int, episode: int = 0) -> pd.DataFrame:
    """One customer's episode, week by week: state summary, action, purchase, spend, reward.

    Args:
        frame: From :func:`load_episodes`.
        slot: The customer's slot in the recorded vector env.
        episode: Which of that slot's episodes (0 = the first customer of the slot).

    Raises:
        DataError: when the log has no such episode.
    """
    rows = frame[(frame["slot"] == slot) & (frame["episode"] == episode)]
    if rows.empty:
        raise DataError(
            f"no episode {episode} for slot {slot}; the log has slots "
            f"0..{int(frame['slot'].max())} and episodes 0..{int(frame['episode'].max())}"
        )
    cols = [c for c in WEEK_COLUMNS if c in rows.columns]
    if "why" in rows.columns:
        cols.append("why")
    return rows[cols].reset_index(drop=True)


def twin(a: pd.DataFrame, b: pd.DataFrame, slot: int, episode: int = 0) -> pd.DataFrame:
    """The same customer under two policies, side by side (columns suffixed ``_a``/``_b``).

    Both logs must come from the same simulator and root seed: slot ``i``'s ``e``-th
    customer then faces the same noise in every week (common random numbers), so the
    difference between the two columns is the effect of the policies alone.

    Raises:
        DataError: when the two logs hold different customers in that slot.
    """
    ea, eb = customer_episode(a, slot, episode), customer_episode(b, slot, episode)
    ida, idb = _identity(a, slot, episode), _identity(b, slot, episode)
    if ida != idb:
        raise DataError(
            f"slot {slot} holds customer {ida} in one log and {idb} in the other; export both "
            "with the same --seed and simulator to get counterfactual twins"
        )
    merged = ea.merge(eb, on="week", how="outer", suffixes=("_a", "_b"))
    merged["reward_diff"] = merged["reward_b"].fillna(0.0) - merged["reward_a"].fillna(0.0)
    return merged


def _identity(frame: pd.DataFrame, slot: int, episode: int) -> tuple[float, ...]:
    """Who sits in a slot: real customer id and the profile seen before the first action."""
    first = frame[(frame["slot"] == slot) & (frame["episode"] == episode)].iloc[0]
    return (int(first["customer_id"]), round(float(first["monetary"]), 5),
            round(float(first["frequency"]), 5), round(float(first["tenure_weeks"]), 5))


def _check(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataError(
            f"episode log {str(p)!r} does not exist; record one with crm_env.EpisodeRecorder"
        )
    return p
