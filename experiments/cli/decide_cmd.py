"""``crmgym decide``: this week's action for every real customer of a log."""

from __future__ import annotations

import argparse

from rich.console import Console

from experiments.cli.common import add_data_arguments, load_data
from gan_simulator.io import atomic_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``decide`` command."""
    p = sub.add_parser(
        "decide",
        help="apply a policy to real customers' histories up to a date; write actions.csv",
        description=(
            "Writes one row per customer: this week's action, its expected profit and uplift "
            "over doing nothing (from the simulator), and why (for learned policies)."
        ),
    )
    p.add_argument("--policy", required=True,
                   help="model:<run>/final_model (trained agent) or a heuristic such as rfm_rule")
    add_data_arguments(p)
    p.add_argument("--as-of", required=True, help="decision date, e.g. 1998-06-30")
    p.add_argument("--simulator", default="gan",
                   help="'gan' (shipped) or a GAN checkpoint path, used for expected profit")
    p.add_argument("--config", default=None,
                   help="the experiment config the policy was trained with (env window, margin)")
    p.add_argument("--no-explain", action="store_true", help="skip the attributions")
    p.add_argument("--out", required=True, help="output CSV")
    p.set_defaults(func=_decide)


def _decide(args: argparse.Namespace) -> int:
    from experiments.decide import decide, parse_as_of

    as_of = parse_as_of(args.as_of)  # fail on a bad date before reading anything
    env = None
    if args.config:
        from experiments.config import load_config

        env = load_config(args.config).env
    log = load_data(args)
    actions = decide(args.policy, log, as_of, simulator=args.simulator, env_config=env,
                     explain=not args.no_explain)
    with atomic_path(args.out) as tmp:
        actions.to_csv(tmp, index=False)
    mix = actions["action"].value_counts()
    Console().print(
        f"{len(actions):,} customers as of {as_of.date()}: "
        + ", ".join(f"{k} {v:,}" for k, v in mix.items())
        + f"; expected uplift this week ${actions['expected_uplift'].sum():,.2f} -> {args.out}"
    )
    return 0
