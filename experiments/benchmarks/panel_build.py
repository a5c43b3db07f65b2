"""Benchmark: building the weekly customer panel.

Builds the panel from a generated log of 5 million transactions (500,000 customers over
78 weeks, unsorted, with same-day repeats) and from the bundled CDNOW log, and prints
transactions per second and the peak memory of each build (tracemalloc, NumPy buffers
included). Target: >= 1,000,000 transactions/s on a 2-core machine.

    python experiments/benchmarks/panel_build.py [--transactions 5000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from gan_simulator.data import build_panel, load_cdnow


def synthetic_log(n: int, customers: int, seed: int = 0) -> pd.DataFrame:
    """A canonical log of ``n`` unsorted transactions over 546 days."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01", "ns")
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n).astype(str),
            "timestamp": start + rng.integers(0, 546, n).astype("timedelta64[D]"),
            "amount": rng.gamma(2.0, 20.0, n).round(2),
            "quantity": rng.integers(1, 5, n).astype(float),
        }
    )


def measure(df: pd.DataFrame, repeats: int) -> tuple[float, float]:
    """Best wall time over ``repeats`` builds, and the peak traced memory in MiB."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        build_panel(df)
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    build_panel(df)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=5_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name, df in (
        (f"synthetic {args.transactions:,}", synthetic_log(args.transactions, args.customers)),
        ("CDNOW 69,659", load_cdnow()),
    ):
        seconds, peak = measure(df, args.repeats)
        rows.append((name, len(df), seconds, len(df) / seconds, peak))
    print(f"{'log':<22}{'transactions':>14}{'seconds':>10}{'tx/s':>14}{'peak MiB':>10}")
    for name, n, s, rate, peak in rows:
        print(f"{name:<22}{n:>14,}{s:>10.3f}{rate:>14,.0f}{peak:>10.0f}")
    rate = rows[0][3]
    print(f"target >= 1,000,000 tx/s: {'met' if rate >= 1e6 else 'NOT met'} ({rate / 1e6:.2f}x)")


if __name__ == "__main__":
    main()
