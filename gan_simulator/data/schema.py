"""The canonical transaction schema, readers for CSV and Parquet, and validation at the boundary.

Canonical columns (one row per transaction):

============  ========  =========================================================================
column        required  meaning
============  ========  =========================================================================
customer_id   yes       customer identifier (kept as a string)
timestamp     yes       date or date-time of the purchase
amount        yes       dollars paid (>= 0); may be empty only on a pure treatment row (below)
quantity      no        units bought
action        no        treatment the customer received in that period (``email``, ``discount_10``)
============  ========  =========================================================================

A row with an ``action`` and an empty ``amount`` records a treatment without a purchase (logged
campaign histories write such rows for the weeks a customer was contacted but did not buy).

Every problem raises :class:`~gan_simulator.errors.DataError` naming the file, the column, up to
five offending rows (numbered from 1 = the first data row after the header) and the fix.
Unsorted rows and several purchases on the same day are normal and accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gan_simulator.actions import ActionCatalog
from gan_simulator.errors import DataError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS: tuple[str, ...] = ("customer_id", "timestamp", "amount")
OPTIONAL_COLUMNS: tuple[str, ...] = ("quantity", "action")
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

NegativePolicy = Literal["refuse", "drop"]


@dataclass(frozen=True)
class ReadReport:
    """What validation did to a log besides accepting it.

    Attributes:
        source: The file (or ``cdnow``) the rows came from.
        rows_read: Rows in the file.
        returns_dropped: Rows with a negative amount dropped under ``negative="drop"``.
        treatment_rows: Rows that record a treatment without a purchase.
    """

    source: str
    rows_read: int
    returns_dropped: int = 0
    treatment_rows: int = 0


def parse_column_map(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``"customer_id=cust,timestamp=date"`` into ``{"customer_id": "cust", ...}``.

    >>> parse_column_map("customer_id=cust, timestamp=date")
    {'customer_id': 'cust', 'timestamp': 'date'}
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        items = dict(spec)
    else:
        items = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if "=" not in part:
                raise DataError(
                    f"column mapping {part!r} is not of the form canonical=yours; "
                    "write e.g. --map customer_id=cust,timestamp=date"
                )
            key, value = (s.strip() for s in part.split("=", 1))
            items[key] = value
    unknown = sorted(set(items) - set(CANONICAL_COLUMNS))
    if unknown:
        raise DataError(
            f"column mapping names unknown canonical column(s) {unknown}; "
            f"the canonical columns are {list(CANONICAL_COLUMNS)}"
        )
    return items


def _rows(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)[:5] + 1
    more = int(mask.sum()) - len(idx)
    text = ", ".join(str(i) for i in idx)
    return f"rows {text}" + (f" and {more} more" if more > 0 else "")


def read_table(path: str | Path, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV (any delimiter; sniffed when ``sep`` is None) or Parquet file as raw columns."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found; check the path, or pass --data cdnow for the bundled log")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a transaction file; pass a .csv or .parquet file")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: the file is empty; export the transaction log with a header and rows")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            frame = pd.read_csv(
                p, sep=sep, engine="python" if sep is None else "c", dtype=str, keep_default_na=False
            )
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        raise DataError(
            f"{p}: could not be read as {'Parquet' if p.suffix.lower() in ('.parquet', '.pq') else 'CSV'} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "check that it is a delimited text file with a header row or a Parquet file"
        ) from None
    if frame.empty:
        raise DataError(f"{p}: the file has a header but no rows; export the transactions themselves")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def validate_transactions(
    raw: pd.DataFrame,
    source: str,
    column_map: Mapping[str, str] | str | None = None,
    date_format: str | None = None,
    catalog: ActionCatalog | None = None,
    negative: NegativePolicy = "refuse",
) -> tuple[pd.DataFrame, ReadReport]:
    """Map, parse and validate raw columns into the canonical schema.

    Args:
        raw: The table as read (any column names).
        source: Name used in messages (usually the file path).
        column_map: Canonical name -> column name in ``raw`` (missing entries map to themselves).
        date_format: ``strptime`` format of the timestamp column (e.g. ``"%Y%m%d"``); parsed
            flexibly when None.
        catalog: Actions allowed in an ``action`` column (default: the default catalogue).
        negative: ``"refuse"`` (default) raises on a negative amount; ``"drop"`` drops such
            rows (returns) and reports how many in the :class:`ReadReport`.

    Returns:
        The canonical frame (rows in file order) and a :class:`ReadReport`.
    """
    mapping = {c: c for c in CANONICAL_COLUMNS}
    mapping.update(parse_column_map(column_map))
    present = set(raw.columns)
    for col in REQUIRED_COLUMNS:
        if mapping[col] not in present:
            raise DataError(
                f"{source}: required column {mapping[col]!r} (canonical {col!r}) is missing; "
                f"the file has columns {sorted(present)}; map yours with --map {col}=<column name>"
            )
    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    n = len(raw)

    ids = raw[mapping["customer_id"]]
    ids = ids.astype("string").str.strip()
    bad = ids.isna().to_numpy() | (ids.fillna("") == "").to_numpy() | ids.str.lower().isin(
        ["nan", "none", "null"]
    ).fillna(False).to_numpy()
    if bad.any():
        raise DataError(
            f"{source}: column {mapping['customer_id']!r} (customer_id) is empty or NaN in "
            f"{_rows(bad)}; every transaction needs a customer id — fill or remove those rows"
        )
    out["customer_id"] = ids.astype(str).to_numpy()

    ts_raw = raw[mapping["timestamp"]]
    ts_text = ts_raw.astype("string").str.strip()
    try:
        if pd.api.types.is_datetime64_any_dtype(ts_raw):
            ts = ts_raw
        else:
            ts = pd.to_datetime(ts_text, format=date_format, errors="coerce")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: bad --date-format {date_format!r} ({exc}); use strptime codes such as %Y-%m-%d") from None
    bad = ts.isna().to_numpy()
    if bad.any():
        example = ts_text[bad].iloc[0]
        raise DataError(
            f"{source}: column {mapping['timestamp']!r} (timestamp) cannot be parsed as a date in "
            f"{_rows(bad)} (e.g. {example!r}); pass --date-format (e.g. %Y%m%d or %d/%m/%Y) "
            "or fix those rows"
        )
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(None)
    out["timestamp"] = ts.to_numpy().astype("datetime64[ns]")

    has_action = "action" in mapping and mapping["action"] in present
    actions = None
    if has_action:
        actions = raw[mapping["action"]].astype("string").str.strip().fillna("")
        actions = actions.mask(actions == "", "none")

    amt_text = raw[mapping["amount"]]
    amount = pd.to_numeric(amt_text, errors="coerce").astype(float)
    empty_amt = amt_text.astype("string").str.strip().fillna("").eq("").to_numpy()
    treatment = np.zeros(n, dtype=bool)
    if actions is not None:
        treatment = empty_amt & (actions != "none").to_numpy()
    bad = amount.isna().to_numpy() & ~treatment
    if bad.any():
        example = amt_text[bad].iloc[0]
        raise DataError(
            f"{source}: column {mapping['amount']!r} (amount) is not a number in {_rows(bad)} "
            f"(e.g. {example!r}); write plain numbers such as 12.50 without currency signs"
        )
    amount = amount.to_numpy()
    dropped = 0
    neg = np.nan_to_num(amount, nan=0.0) < 0
    if neg.any():
        if negative == "refuse":
            raise DataError(
                f"{source}: column {mapping['amount']!r} (amount) is negative in {_rows(neg)} "
                f"({int(neg.sum())} rows, returns or refunds); remove them or pass --drop-returns "
                "to drop them and report how many were dropped"
            )
        dropped = int(neg.sum())
    out["amount"] = amount

    if "quantity" in mapping and mapping["quantity"] in present:
        q_text = raw[mapping["quantity"]]
        qty = pd.to_numeric(q_text, errors="coerce").astype(float)
        bad = qty.isna().to_numpy() & ~treatment
        if bad.any():
            raise DataError(
                f"{source}: column {mapping['quantity']!r} (quantity) is not a number in "
                f"{_rows(bad)}; write whole numbers or drop the column mapping"
            )
        out["quantity"] = qty.to_numpy()

    if actions is not None:
        catalog = catalog or ActionCatalog.default()
        codes = catalog.codes(actions.to_numpy())
        bad = codes < 0
        if bad.any():
            unknown = sorted(set(actions[bad].tolist()))[:5]
            raise DataError(
                f"{source}: column {mapping['action']!r} (action) has label(s) {unknown} in "
                f"{_rows(bad)} that are not in the action catalogue {list(catalog.names)}; "
                "rename them or add them to the catalogue in your config"
            )
        out["action"] = actions.to_numpy().astype(str)

    if dropped:
        keep = ~neg
        out = out.loc[keep].reset_index(drop=True)
        logger.warning("%s: dropped %d rows with a negative amount (returns)", source, dropped)
    report = ReadReport(
        source=source, rows_read=n, returns_dropped=dropped, treatment_rows=int(treatment.sum())
    )
    return out, report


def read_transactions(
    path: str | Path,
    column_map: Mapping[str, str] | str | None = None,
    date_format: str | None = None,
    catalog: ActionCatalog | None = None,
    negative: NegativePolicy = "refuse",
    sep: str | None = None,
) -> pd.DataFrame:
    """Read and validate a transaction log from CSV or Parquet into the canonical schema.

    The :class:`ReadReport` is attached as ``frame.attrs["read_report"]``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("cust,date,value\\nA,2024-01-02,10\\nB,2024-01-03,5.5\\n")
    >>> df = read_transactions(p, column_map="customer_id=cust,timestamp=date,amount=value")
    >>> list(df.columns), len(df)
    (['customer_id', 'timestamp', 'amount'], 2)
    """
    column_map = parse_column_map(column_map)
    raw = read_table(path, sep=sep)
    frame, report = validate_transactions(
        raw, str(path), column_map, date_format, catalog=catalog, negative=negative
    )
    frame.attrs["read_report"] = report
    return frame


def load_log(
    spec: str | Path,
    column_map: Mapping[str, str] | str | None = None,
    date_format: str | None = None,
    catalog: ActionCatalog | None = None,
    negative: NegativePolicy = "refuse",
) -> pd.DataFrame:
    """Load a log by the ``--data`` convention: ``"cdnow"`` selects the bundled CDNOW copy."""
    if str(spec).lower() == "cdnow":
        from gan_simulator.data.cdnow import load_cdnow

        return load_cdnow()
    return read_transactions(spec, column_map, date_format, catalog=catalog, negative=negative)


def columns_present(frame: pd.DataFrame) -> Sequence[str]:
    """Canonical columns present in a validated frame, in canonical order."""
    return [c for c in CANONICAL_COLUMNS if c in frame.columns]
