"""``crmgym data ...``: inspect transaction logs and build panels."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from experiments.cli.common import add_data_arguments, load_data
from gan_simulator.data import build_panel, summarize
from gan_simulator.io import write_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group."""
    data = sub.add_parser("data", help="inspect transaction logs and build customer panels")
    data_sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    data_sub.required = True

    summary = data_sub.add_parser("summary", help="headline numbers of a log and its panel")
    add_data_arguments(summary)
    summary.add_argument("--freq", choices=("W", "M"), default="W", help="period length")
    summary.add_argument("--json", dest="json_out", default=None, help="also write them as JSON")
    summary.set_defaults(func=_summary)

    panel = data_sub.add_parser("panel", help="build the customer panel and save it (.npz)")
    add_data_arguments(panel)
    panel.add_argument("--freq", choices=("W", "M"), default="W", help="period length")
    panel.add_argument("--out", required=True, help="output .npz path")
    panel.set_defaults(func=_panel)


def _summary(args: argparse.Namespace) -> int:
    df = load_data(args)
    panel = build_panel(df, freq=args.freq)
    stats = summarize(df, panel)
    _print_summary(args.data, stats)
    if args.json_out:
        write_json(args.json_out, stats)
    return 0


def _panel(args: argparse.Namespace) -> int:
    df = load_data(args)
    panel = build_panel(df, freq=args.freq)
    panel.save(args.out)
    Console().print(
        f"panel: {panel.n_customers:,} customers x {panel.n_periods} periods "
        f"x {len(panel.feature_names)} features -> {args.out}"
    )
    return 0


def _print_summary(source: str, stats: dict[str, Any]) -> None:
    table = Table(title=f"Transaction log: {source}", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("customers", f"{stats['customers']:,}")
    table.add_row("transactions", f"{stats['transactions']:,}")
    table.add_row(f"periods ({stats['period_length']}s)", f"{stats['periods']} from {stats['first_period_start']}")
    table.add_row("customer-periods with a purchase", f"{stats['purchase_period_share']:.2%}")
    table.add_row("customers who buy again", f"{stats['repeat_customer_share']:.1%}")
    table.add_row("total spend", f"${stats['total_spend']:,.2f}")
    q = stats["spend_per_transaction_quantiles"]
    table.add_row(
        "spend per transaction (5/25/50/75/95%)",
        " / ".join(f"${q[k]:,.2f}" for k in ("p5", "p25", "p50", "p75", "p95")),
    )
    if stats.get("returns_dropped"):
        table.add_row("returns dropped", f"{stats['returns_dropped']:,}")
    Console().print(table)
