"""``crmgym replay ...``: record a policy's episodes, and show one customer's weeks."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

TWIN_COLUMNS = ("week", "action_a", "action_b", "purchased_a", "purchased_b", "gross_spend_a",
                "gross_spend_b", "reward_a", "reward_b", "reward_diff")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``replay`` command group."""
    replay = sub.add_parser("replay", help="record episodes to Parquet and replay them")
    rsub = replay.add_subparsers(dest="replay_command", metavar="SUBCOMMAND")
    rsub.required = True

    ex = rsub.add_parser("export", help="record a policy's episodes, week by week, to Parquet")
    ex.add_argument("--policy", required=True, help="policy spec, e.g. rfm_rule or model:<folder>")
    ex.add_argument("--customers", type=int, default=100, help="customers recorded")
    ex.add_argument("--seed", type=int, default=0, help="root seed (same seed: same customers)")
    ex.add_argument("--simulator", default="gan", help="'gan', 'structural' or a checkpoint path")
    ex.add_argument("--horizon", type=int, default=None, help="weeks per customer")
    ex.add_argument("--config", default=None, help="experiment config with the env settings")
    ex.add_argument("--no-explain", action="store_true", help="skip the 'why' column")
    ex.add_argument("--out", required=True, help="output .parquet")
    ex.set_defaults(func=_export)

    show = rsub.add_parser("show", help="one customer's episode week by week (and its twin)")
    show.add_argument("episodes", help="an exported .parquet")
    show.add_argument("--slot", type=int, default=0, help="customer slot")
    show.add_argument("--twin", default=None, help="another export with the same seed to compare")
    show.set_defaults(func=_show)


def _env_config(args: argparse.Namespace) -> dict[str, Any]:
    env: dict[str, Any] = {}
    if args.config:
        from experiments.config import load_config
        from gan_simulator.configuration import to_mapping

        env = to_mapping(load_config(args.config).env)
    if args.horizon is not None:
        env["horizon"] = args.horizon
    return env


def _export(args: argparse.Namespace) -> int:
    from crm_env.replay import load_episodes
    from experiments.replay_export import export_episodes

    path = export_episodes(args.policy, args.out, customers=args.customers, seed=args.seed,
                           simulator=args.simulator, env_config=_env_config(args),
                           explain=not args.no_explain)
    frame = load_episodes(path)
    Console().print(
        f"{frame['episode_id'].nunique():,} episodes, {len(frame):,} customer-weeks -> {path}"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from crm_env.replay import customer_episode, load_episodes, twin

    frame = load_episodes(args.episodes)
    if args.twin:
        weeks = twin(frame, load_episodes(args.twin), slot=args.slot)[list(TWIN_COLUMNS)]
        title = f"slot {args.slot}: {args.episodes} (a) vs {args.twin} (b)"
    else:
        weeks = customer_episode(frame, slot=args.slot)
        title = f"slot {args.slot}: {args.episodes}"
    table = Table(title=title)
    for col in weeks.columns:
        table.add_column(str(col))
    for _, row in weeks.iterrows():
        table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row])
    Console(width=max(120, Console().width)).print(table)
    return 0
