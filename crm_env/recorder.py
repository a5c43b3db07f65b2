"""Every step of every customer, to Parquet: the ``EpisodeRecorder`` vector wrapper.

Rows are buffered and written in row groups of ``chunk_rows``; the file appears under its
final name only when the recorder is closed (it is written beside it, then renamed), so a
crash never leaves a half-written episode log. Read it back with
:func:`crm_env.replay.load_episodes`.

>>> import tempfile, pathlib, numpy as np
>>> from crm_env import CRMVectorEnv
>>> from crm_env.replay import load_episodes
>>> path = pathlib.Path(tempfile.mkdtemp()) / "steps.parquet"
>>> with EpisodeRecorder(CRMVectorEnv(2, "structural", seed=0, horizon=3), path) as env:
...     _ = env.reset()
...     for _ in range(3):
...         _ = env.step(np.array([1, 0]))
>>> frame = load_episodes(path)
>>> len(frame), list(frame["action"].unique())
(6, ['email', 'none'])
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from gan_simulator.errors import EnvArgumentError
from gan_simulator.io import atomic_path

log = logging.getLogger(__name__)

RECORDED_FEATURES: tuple[str, ...] = (
    "recency_weeks",
    "frequency",
    "monetary",
    "tenure_weeks",
    "weeks_left",
    "contacts_last_4w",
    "discounts_last_4w",
    "opted_out",
)
"""Profile features recorded as the policy saw them before acting."""

_INFO_COLUMNS: tuple[tuple[str, str], ...] = (  # (info key, column dtype)
    ("slot", "int32"),
    ("episode_index", "int32"),
    ("customer_id", "int64"),
    ("week", "int16"),
    ("action", "int8"),
    ("purchased", "bool"),
    ("transactions", "float32"),
    ("gross_spend", "float64"),
    ("revenue", "float64"),
    ("discount_cost", "float64"),
    ("cogs", "float64"),
    ("contact_cost", "float64"),
    ("incentive_cost", "float64"),
)

_COLUMN = {"episode_index": "episode"}
"""Info keys stored under another column name."""


class EpisodeRecorder(VectorWrapper):
    """Record a :class:`~crm_env.CRMVectorEnv` (or a wrapper of it) step by step to Parquet.

    Columns: ``slot``, ``episode`` (per slot), ``customer_id``, ``week``, ``action`` (code),
    ``purchased``, ``transactions``, ``gross_spend``, ``revenue``, ``discount_cost``,
    ``cogs``, ``contact_cost``, ``incentive_cost`` (dollars), ``reward`` (as returned),
    ``terminated``, ``truncated`` and the profile features of :data:`RECORDED_FEATURES`.
    The file's metadata holds the action names, margin, reward scale and simulator
    fingerprint.

    Args:
        env: The vector env to record.
        path: Target ``.parquet`` file (written on :meth:`close`).
        chunk_rows: Rows per Parquet row group (memory held before a write).
    """

    def __init__(self, env: VectorEnv, path: str | Path, chunk_rows: int = 65_536) -> None:
        super().__init__(env)
        if chunk_rows < 1:
            raise EnvArgumentError(f"chunk_rows={chunk_rows} must be a positive integer")
        base = env.unwrapped
        if not hasattr(base, "layout") or not hasattr(base, "catalog"):
            raise EnvArgumentError(
                f"EpisodeRecorder records crm_env vector envs; got {type(base).__name__}"
            )
        self.path = Path(path)
        self.chunk_rows = int(chunk_rows)
        self._feature_idx = np.array([base.layout.profile_index(f) for f in RECORDED_FEATURES])
        self._meta = {
            "action_names": list(base.catalog.names),
            "margin": base.config.margin,
            "reward_scale": base.config.reward_scale,
            "simulator_fingerprint": base.metadata.get("simulator_fingerprint", ""),
        }
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        self._writer: Any = None
        self._pending: list[dict[str, np.ndarray]] = []
        self._pending_rows = 0
        self._last_profile: np.ndarray | None = None
        self.rows_written = 0

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None) -> Any:
        """Reset the env and remember what the policy sees."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_profile = np.array(obs["profile"][:, self._feature_idx], dtype=np.float32)
        return obs, info

    def step(self, actions: Any) -> Any:
        """Step the env and buffer one row per slot."""
        if self._last_profile is None:
            raise EnvArgumentError("call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(actions)
        row = {_COLUMN.get(k, k): np.asarray(info[k]).astype(d) for k, d in _INFO_COLUMNS}
        row["reward"] = np.asarray(reward, dtype=np.float64)
        row["terminated"] = np.asarray(terminated, dtype=bool)
        row["truncated"] = np.asarray(truncated, dtype=bool)
        for j, name in enumerate(RECORDED_FEATURES):
            row[name] = self._last_profile[:, j]
        self._pending.append(row)
        self._pending_rows += len(row["reward"])
        self._last_profile = np.array(obs["profile"][:, self._feature_idx], dtype=np.float32)
        if self._pending_rows >= self.chunk_rows:
            self._flush()
        return obs, reward, terminated, truncated, info

    def _flush(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {k: np.concatenate([r[k] for r in self._pending]) for k in self._pending[0]}
        table = pa.table(columns)
        if self._writer is None:
            schema = table.schema.with_metadata({"crmgym": json.dumps(self._meta)})
            self._writer = pq.ParquetWriter(self._tmp, schema)
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))
        self.rows_written += table.num_rows
        self._pending.clear()
        self._pending_rows = 0

    def close(self, **kwargs: Any) -> None:
        """Write what is buffered and move the file to ``path``; closes the env too."""
        if self._stack is not None:
            try:
                self._flush()
                if self._writer is None:  # nothing recorded: still leave a valid, empty file
                    self._write_empty()
                else:
                    self._writer.close()
                self._stack.close()
                log.info("recorded %d steps to %s", self.rows_written, self.path)
            finally:
                self._stack = None
        self.env.close(**kwargs)

    def _write_empty(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = [
            pa.field(_COLUMN.get(k, k), pa.from_numpy_dtype(np.dtype(d))) for k, d in _INFO_COLUMNS
        ]
        fields += [pa.field("reward", pa.float64()), pa.field("terminated", pa.bool_()),
                   pa.field("truncated", pa.bool_())]
        fields += [pa.field(n, pa.float32()) for n in RECORDED_FEATURES]
        schema = pa.schema(fields, metadata={"crmgym": json.dumps(self._meta)})
        pq.write_table(schema.empty_table(), self._tmp)

    def __enter__(self) -> EpisodeRecorder:
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and self._stack is not None:
            # Leave no partial file behind on an error.
            if self._writer is not None:
                self._writer.close()
            self._stack.__exit__(*exc)
            self._stack = None
            self.env.close()
            return
        self.close()
