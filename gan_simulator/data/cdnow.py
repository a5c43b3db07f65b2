"""The bundled CDNOW transaction log (Fader & Hardie), in the canonical schema.

See ``bundled/PROVENANCE.md`` for where the copy comes from. Works offline; does not import
``lifetimes``.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources

import pandas as pd

CDNOW_CUSTOMERS = 23_570
CDNOW_TRANSACTIONS = 69_659
CDNOW_TOTAL_SPEND = 2_500_315.63
CDNOW_START = pd.Timestamp("1997-01-01")


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    ref = resources.files("gan_simulator.data").joinpath("bundled/CDNOW_master.txt.gz")
    with ref.open("rb") as fh, gzip.open(fh, "rt") as text:
        raw = pd.read_csv(
            text,
            sep=r"\s+",
            dtype={"customer_id": str, "date": str},
            engine="c",
        )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str).to_numpy(),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d").to_numpy(),
            "amount": raw["dollar_value"].astype(float).to_numpy(),
            "quantity": raw["number_of_cds"].astype(float).to_numpy(),
        }
    )


def load_cdnow() -> pd.DataFrame:
    """The CDNOW master log: 69,659 transactions of 23,570 customers, 1997-01-01 to 1998-06-30.

    Returns a fresh copy in the canonical schema (``customer_id`` as the original zero-padded
    string, ``timestamp``, ``amount`` in dollars, ``quantity`` in CDs).

    >>> df = load_cdnow()
    >>> len(df), df["customer_id"].nunique()
    (69659, 23570)
    """
    return _load().copy()
