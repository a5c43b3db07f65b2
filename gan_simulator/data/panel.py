"""The weekly (or monthly) customer panel: the tensor view of a transaction log.

A :class:`CustomerPanel` holds, for ``N`` customers and ``T`` periods:

- ``static [N, S]``: ``cohort_period`` (period of the first purchase), ``first_spend``
  (dollars in that period), ``first_transactions`` (transactions in that period);
- ``behaviour [N, T, F]``: ``purchased`` (0/1), ``transactions`` (rows), ``purchase_days``
  (distinct days with a purchase), ``spend`` (dollars), and ``quantity`` when the log has it;
- ``actions [N, T]``: logged treatment codes of the action catalogue (0 = none);
- ``mask [N, T]``: ``True`` from the customer's first purchase on.

Building is vectorised (``bincount`` over flat cell indices); saving uses ``.npz`` without
pickle (strings are stored as fixed-width unicode arrays, metadata as a JSON string).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import DataError
from gan_simulator.io import atomic_path

logger = logging.getLogger(__name__)

PANEL_FORMAT_VERSION = 1
STATIC_NAMES: tuple[str, ...] = ("cohort_period", "first_spend", "first_transactions")
Freq = Literal["W", "M"]


@dataclass(frozen=True, eq=False)
class CustomerPanel:
    """Per-customer, per-period arrays built from a transaction log.

    Attributes:
        customer_ids: ``str[N]`` customer identifiers, sorted.
        period_starts: ``datetime64[D][T]`` first day of each period.
        freq: ``"W"`` (7-day periods from the origin) or ``"M"`` (calendar months).
        static: ``float32[N, S]`` static attributes named by ``static_names``.
        static_names: Names of the static columns.
        behaviour: ``float32[N, T, F]`` per-period behaviour named by ``feature_names``.
        feature_names: Names of the behaviour features.
        actions: ``int16[N, T]`` logged action codes (0 = none).
        action_names: Action names indexed by code.
        mask: ``bool[N, T]``, ``True`` from the first-purchase period on.
        first_period: ``int64[N]`` period index of the first purchase.
    """

    customer_ids: np.ndarray
    period_starts: np.ndarray
    freq: str
    static: np.ndarray
    static_names: tuple[str, ...]
    behaviour: np.ndarray
    feature_names: tuple[str, ...]
    actions: np.ndarray
    action_names: tuple[str, ...]
    mask: np.ndarray
    first_period: np.ndarray

    @property
    def n_customers(self) -> int:
        """Number of customers ``N``."""
        return int(self.behaviour.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of periods ``T``."""
        return int(self.behaviour.shape[1])

    def feature(self, name: str) -> np.ndarray:
        """The ``[N, T]`` slice of one behaviour feature, e.g. ``feature("spend")``."""
        try:
            return self.behaviour[:, :, self.feature_names.index(name)]
        except ValueError:
            raise DataError(
                f"panel has no feature {name!r}; it has {list(self.feature_names)}"
            ) from None

    def subset(self, index: np.ndarray) -> CustomerPanel:
        """The panel restricted to some customers (integer or boolean index)."""
        index = np.asarray(index)
        return replace(
            self,
            customer_ids=self.customer_ids[index],
            static=self.static[index],
            behaviour=self.behaviour[index],
            actions=self.actions[index],
            mask=self.mask[index],
            first_period=self.first_period[index],
        )

    def time_slice(self, start: int, stop: int) -> CustomerPanel:
        """Periods ``start`` (inclusive) to ``stop`` (exclusive); static attributes unchanged."""
        if not 0 <= start < stop <= self.n_periods:
            raise DataError(
                f"time slice [{start}, {stop}) is outside the panel's {self.n_periods} periods; "
                f"choose 0 <= start < stop <= {self.n_periods}"
            )
        return replace(
            self,
            period_starts=self.period_starts[start:stop],
            behaviour=self.behaviour[:, start:stop],
            actions=self.actions[:, start:stop],
            mask=self.mask[:, start:stop],
        )

    def split_customers(
        self, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    ) -> dict[str, CustomerPanel]:
        """Disjoint, covering ``train``/``validation``/``test`` customer sets from a seed.

        >>> panel = build_panel(pd.DataFrame({"customer_id": list("abcdefghij"),
        ...     "timestamp": pd.Timestamp("2024-01-01"), "amount": 1.0}))
        >>> parts = panel.split_customers(seed=0)
        >>> [parts[k].n_customers for k in ("train", "validation", "test")]
        [8, 1, 1]
        """
        if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
            raise DataError(f"split fractions {fractions} must be three non-negative numbers summing to 1")
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
        order = rng.permutation(self.n_customers)
        n_train = int(round(fractions[0] * self.n_customers))
        n_val = int(round(fractions[1] * self.n_customers))
        parts = np.split(order, [n_train, n_train + n_val])
        return {
            name: self.subset(np.sort(idx))
            for name, idx in zip(("train", "validation", "test"), parts, strict=True)
        }

    def split_time(self, calibration_periods: int) -> tuple[CustomerPanel, CustomerPanel]:
        """Calibration (first ``calibration_periods``) and holdout (the rest) panels."""
        return (
            self.time_slice(0, calibration_periods),
            self.time_slice(calibration_periods, self.n_periods),
        )

    def fingerprint(self) -> str:
        """Short SHA-256 of the panel's contents (recorded in checkpoints)."""
        h = hashlib.sha256()
        for arr in (self.customer_ids.astype("U"), self.period_starts, self.behaviour, self.actions, self.mask):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(json.dumps([self.feature_names, self.static_names, self.action_names, self.freq]).encode())
        return h.hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        """Write the panel to ``.npz`` atomically (no pickle)."""
        meta = {
            "format_version": PANEL_FORMAT_VERSION,
            "freq": self.freq,
            "static_names": list(self.static_names),
            "feature_names": list(self.feature_names),
            "action_names": list(self.action_names),
        }
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(
                    fh,
                    meta=np.array(json.dumps(meta)),
                    customer_ids=self.customer_ids.astype("U"),
                    period_starts=self.period_starts.astype("datetime64[D]"),
                    static=self.static,
                    behaviour=self.behaviour,
                    actions=self.actions,
                    mask=self.mask,
                    first_period=self.first_period,
                )
        return path

    @classmethod
    def load(cls, path: str | Path) -> CustomerPanel:
        """Read a panel written by :meth:`save`; clear errors for missing or foreign files."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: panel file not found; build one with CustomerPanel.save")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(
                f"{path}: not a readable crmgym panel ({type(exc).__name__}); the file may be "
                "truncated or from another program — rebuild it from the transaction log"
            ) from None
        if meta.get("format_version") != PANEL_FORMAT_VERSION:
            raise DataError(
                f"{path}: panel format {meta.get('format_version')} is not the supported "
                f"{PANEL_FORMAT_VERSION}; rebuild it from the transaction log with this version"
            )
        return cls(
            customer_ids=arrays["customer_ids"],
            period_starts=arrays["period_starts"],
            freq=meta["freq"],
            static=arrays["static"],
            static_names=tuple(meta["static_names"]),
            behaviour=arrays["behaviour"],
            feature_names=tuple(meta["feature_names"]),
            actions=arrays["actions"],
            action_names=tuple(meta["action_names"]),
            mask=arrays["mask"],
            first_period=arrays["first_period"],
        )


def _period_index(
    days: np.ndarray, freq: str, origin: pd.Timestamp, end: pd.Timestamp | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Period index and day-within-period of each day, and the start dates of all periods."""
    origin_d = np.datetime64(origin.normalize().date(), "D")
    last = days.max() if end is None else max(days.max(), np.datetime64(end.date(), "D"))
    offset = (days - origin_d).astype(np.int64)
    if freq == "W":
        period, day_in_period = np.divmod(offset, 7)
        n_periods = int((last - origin_d).astype(np.int64) // 7) + 1
        starts = origin_d + 7 * np.arange(n_periods)
    else:
        months = days.astype("datetime64[M]")
        origin_m = origin_d.astype("datetime64[M]")
        period = (months - origin_m).astype(np.int64)
        day_in_period = (days - months.astype("datetime64[D]")).astype(np.int64)
        n_periods = int((last.astype("datetime64[M]") - origin_m).astype(np.int64)) + 1
        starts = (origin_m + np.arange(n_periods)).astype("datetime64[D]")
    return period, day_in_period, starts


def _factorize_sorted(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and sorted unique values (hash first, then sort only the uniques)."""
    codes, uniques = pd.factorize(ids, sort=False)
    uniques = np.asarray(uniques).astype(str)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques[order]


def build_panel(
    df: pd.DataFrame,
    freq: Freq | str = "W",
    origin: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    catalog: ActionCatalog | None = None,
) -> CustomerPanel:
    """Build the customer panel from a validated canonical transaction frame.

    Args:
        df: Canonical frame (see :mod:`gan_simulator.data.schema`); any row order.
        freq: ``"W"`` for 7-day periods counted from ``origin`` (default) or ``"M"`` for
            calendar months.
        origin: First day of period 0; default the day of the earliest timestamp.
        end: Last day to cover (default the latest timestamp).
        catalog: Action catalogue for the ``action`` column (default catalogue).

    Returns:
        A :class:`CustomerPanel`; customers without any purchase row are left out.
    """
    if freq not in ("W", "M"):
        raise DataError(f"period length {freq!r} is not supported; use 'W' (weeks) or 'M' (months)")
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in df.columns]
    if missing:
        raise DataError(
            f"transaction frame lacks canonical column(s) {missing}; read it with "
            "gan_simulator.data.read_transactions"
        )
    catalog = catalog or ActionCatalog.default()
    amount_all = df["amount"].to_numpy(dtype=np.float64)
    is_purchase = ~np.isnan(amount_all)
    all_purchases = bool(is_purchase.all())
    if not is_purchase.any():
        raise DataError("the log has no purchase rows; a panel needs at least one transaction")
    days_all = df["timestamp"].to_numpy().astype("datetime64[D]")

    codes_all, ids = _factorize_sorted(df["customer_id"])
    first_day = days_all[is_purchase].min()
    origin_ts = pd.Timestamp(first_day) if origin is None else pd.Timestamp(origin)
    end_ts = None if end is None else pd.Timestamp(end)
    if days_all.min() < np.datetime64(origin_ts.date(), "D"):
        raise DataError(
            f"transactions before the panel origin {origin_ts.date()}; choose an earlier origin"
        )
    period_all, day_all, starts = _period_index(days_all, freq, origin_ts, end_ts)
    n_cust, n_per = len(ids), len(starts)

    # Purchase rows -> per-cell counts and sums over flat cell indices.
    def purchases(a: np.ndarray) -> np.ndarray:
        return a if all_purchases else a[is_purchase]

    cell = purchases(codes_all).astype(np.int64) * n_per + purchases(period_all)
    size = n_cust * n_per
    # Distinct purchase days: one bit per day of the period, OR-ed per cell, then counted.
    day_bits = np.zeros(size, dtype=np.uint32)
    np.bitwise_or.at(day_bits, cell, np.left_shift(np.uint32(1), purchases(day_all).astype(np.uint32)))

    names = ["purchased", "transactions", "purchase_days", "spend"]
    if "quantity" in df.columns:
        names.append("quantity")
    behaviour = np.empty((n_cust, n_per, len(names)), dtype=np.float32)
    transactions = np.bincount(cell, minlength=size).reshape(n_cust, n_per)
    behaviour[:, :, 0] = transactions > 0
    behaviour[:, :, 1] = transactions
    del transactions
    behaviour[:, :, 2] = np.bitwise_count(day_bits).reshape(n_cust, n_per)
    del day_bits
    behaviour[:, :, 3] = np.bincount(cell, weights=purchases(amount_all), minlength=size).reshape(
        n_cust, n_per
    )
    if "quantity" in df.columns:
        qty = purchases(df["quantity"].to_numpy(dtype=np.float64))
        behaviour[:, :, 4] = np.bincount(cell, weights=qty, minlength=size).reshape(n_cust, n_per)
    names = tuple(names)

    bought = behaviour[:, :, 0] > 0
    has_purchase = bought.any(axis=1)
    first_period = np.argmax(bought, axis=1).astype(np.int64)
    mask = np.arange(n_per)[None, :] >= first_period[:, None]

    actions = np.zeros(size, dtype=np.int16)
    if "action" in df.columns:
        act_codes = catalog.codes(df["action"].to_numpy())
        if (act_codes < 0).any():
            bad = sorted(set(df["action"].to_numpy()[act_codes < 0].tolist()))[:5]
            raise DataError(f"unknown action label(s) {bad}; the catalogue has {list(catalog.names)}")
        treated = act_codes > 0
        np.maximum.at(
            actions, codes_all[treated].astype(np.int64) * n_per + period_all[treated], act_codes[treated]
        )
    actions = actions.reshape(n_cust, n_per)
    actions[~mask] = 0

    rows = np.arange(n_cust)
    static = np.stack(
        [
            first_period.astype(np.float32),
            behaviour[rows, first_period, names.index("spend")],
            behaviour[rows, first_period, names.index("transactions")],
        ],
        axis=1,
    ).astype(np.float32)

    if not has_purchase.all():
        logger.info("%d customers have treatment rows but no purchase; left out", int((~has_purchase).sum()))
    keep = np.flatnonzero(has_purchase)
    panel = CustomerPanel(
        customer_ids=np.asarray(ids).astype(str),
        period_starts=starts.astype("datetime64[D]"),
        freq=freq,
        static=static,
        static_names=STATIC_NAMES,
        behaviour=behaviour,
        feature_names=names,
        actions=actions,
        action_names=catalog.names,
        mask=mask,
        first_period=first_period,
    )
    return panel if len(keep) == n_cust else panel.subset(keep)
