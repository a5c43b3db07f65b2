"""Headline numbers of a transaction log and its panel (``crmgym data summary``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gan_simulator.data.panel import CustomerPanel


def summarize(df: pd.DataFrame, panel: CustomerPanel) -> dict[str, Any]:
    """Summary statistics of a validated log and the panel built from it.

    Keys: ``customers``, ``transactions``, ``periods``, ``period_length``, ``first_period_start``,
    ``purchase_period_share`` (share of all customer-periods with a purchase; 3.5% on CDNOW),
    ``purchase_period_share_observed`` (the same from each customer's first purchase on),
    ``repeat_customer_share`` (share of customers with more than one transaction; 49.5% on
    CDNOW, i.e. 50.5% never buy again), ``repeat_purchase_day_share`` (more than one distinct
    purchase day), ``total_spend``, ``spend_per_transaction_quantiles`` (5/25/50/75/95%),
    ``total_quantity`` (when present), ``returns_dropped``.
    """
    purchases = df["amount"].notna().to_numpy()
    amounts = df["amount"].to_numpy(dtype=float)[purchases]
    purchased = panel.feature("purchased") > 0
    days = panel.feature("purchase_days").sum(axis=1)
    q = np.quantile(amounts, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(amounts) else np.zeros(5)
    report = df.attrs.get("read_report")
    out: dict[str, Any] = {
        "customers": panel.n_customers,
        "transactions": int(purchases.sum()),
        "periods": panel.n_periods,
        "period_length": "week" if panel.freq == "W" else "month",
        "first_period_start": str(panel.period_starts[0]),
        "purchase_period_share": float(purchased.mean()),
        "purchase_period_share_observed": float(purchased[panel.mask].mean()),
        "repeat_customer_share": float((panel.feature("transactions").sum(axis=1) > 1).mean()),
        "repeat_purchase_day_share": float((days > 1).mean()),
        "total_spend": round(float(amounts.sum()), 2),
        "spend_per_transaction_quantiles": {
            f"p{p}": round(float(v), 2) for p, v in zip((5, 25, 50, 75, 95), q, strict=True)
        },
        "returns_dropped": int(getattr(report, "returns_dropped", 0)),
    }
    if "quantity" in df.columns:
        out["total_quantity"] = float(df["quantity"].to_numpy(dtype=float)[purchases].sum())
    return out
