"""Arguments shared by several ``crmgym`` sub-commands."""

from __future__ import annotations

import argparse

import pandas as pd

from gan_simulator.data import load_log


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--data``, ``--map``, ``--date-format`` and ``--drop-returns`` to a parser."""
    parser.add_argument(
        "--data",
        default="cdnow",
        help="transaction log: 'cdnow' (bundled) or a CSV/Parquet path (default: cdnow)",
    )
    parser.add_argument(
        "--map",
        dest="column_map",
        default=None,
        metavar="CANON=COL,...",
        help="map canonical columns to yours, e.g. customer_id=cust,timestamp=date,amount=value",
    )
    parser.add_argument(
        "--date-format", default=None, help="strptime format of the timestamp column, e.g. %%Y%%m%%d"
    )
    parser.add_argument(
        "--drop-returns",
        action="store_true",
        help="drop rows with a negative amount (returns) instead of refusing the file",
    )


def load_data(args: argparse.Namespace) -> pd.DataFrame:
    """Load the log selected by :func:`add_data_arguments`."""
    return load_log(
        args.data,
        column_map=args.column_map,
        date_format=args.date_format,
        negative="drop" if args.drop_returns else "refuse",
    )
