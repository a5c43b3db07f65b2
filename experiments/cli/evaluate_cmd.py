"""``crmgym evaluate``: every policy on the same simulated customers, in money, with CIs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gan_simulator.errors import ConfigError

DEFAULT_POLICIES = "no_action,random,always:email,rfm_rule,myopic_uplift"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command."""
    p = sub.add_parser(
        "evaluate",
        help="compare policies on the same simulated customers (profit with 95%% CIs)",
        description=(
            "Runs every policy (trained models and heuristics alike) on the same customers with "
            "common random numbers, and writes evaluation.json, report.md and PNG plots."
        ),
    )
    p.add_argument("--config", default=None, help="experiment config: simulator and env settings")
    p.add_argument(
        "--simulator", default=None,
        help="'gan' (shipped), 'structural', or a GAN checkpoint path (overrides the config)",
    )
    p.add_argument(
        "--policies", default=DEFAULT_POLICIES,
        help="comma-separated policy specs, optionally NAME=SPEC, e.g. "
        "'no_action,rfm_rule,ppo=model:runs/ppo_gru/final' (default: %(default)s)",
    )
    p.add_argument("--customers", type=int, default=10_000, help="customers per policy")
    p.add_argument("--horizon", type=int, default=None, help="weeks per customer (default: config, 52)")
    p.add_argument("--seed", type=int, default=0, help="root seed shared by all policies")
    p.add_argument("--baseline", default=None, help="policy name for paired differences (default: first)")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples per interval")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def parse_policies(text: str) -> dict[str, str]:
    """``"a,ppo=model:x"`` -> ``{"a": "a", "ppo": "model:x"}`` (names must be unique)."""
    out: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, spec = item.partition("=")
        if not sep or ":" in name:
            name, spec = item, item
        if name in out:
            raise ConfigError(f"policy name {name!r} is given twice in --policies; name them NAME=SPEC")
        out[name] = spec
    if not out:
        raise ConfigError("--policies is empty; give at least one policy spec, e.g. no_action")
    return out


def _env_and_simulator(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    env: dict[str, Any] = {}
    simulator: Any = "gan"
    if args.config:
        from experiments.config import load_config
        from experiments.training import simulator_spec
        from gan_simulator.configuration import to_mapping

        cfg = load_config(args.config)
        simulator = simulator_spec(cfg)
        env = to_mapping(cfg.env)
    if args.simulator:
        simulator = args.simulator
    if args.horizon is not None:
        env["horizon"] = args.horizon
    env["seed"] = args.seed
    return simulator, env


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the outputs and print the table."""
    from experiments.evaluation import evaluate
    from experiments.evaluation_report import write_evaluation

    if args.customers < 2:
        raise ConfigError(f"--customers={args.customers} must be at least 2 for confidence intervals")
    policies = parse_policies(args.policies)
    if args.baseline is not None and args.baseline not in policies:
        raise ConfigError(f"--baseline {args.baseline!r} is not among the policies {list(policies)}")
    simulator, env = _env_and_simulator(args)
    ev = evaluate(
        simulator, policies, customers=args.customers, seed=args.seed, baseline=args.baseline,
        env_config=env, n_boot=args.bootstrap, progress=True,
    )
    paths = write_evaluation(ev, Path(args.out))
    print_table(ev.summary)
    Console().print(f"report: {paths['report']}")
    return 0


def print_table(summary: dict[str, Any]) -> None:
    """Profit per customer and paired differences as a terminal table."""
    base = summary["baseline"]
    table = Table(title=f"Profit per customer over {summary['settings']['horizon']} weeks (95% CI)")
    for col in ("policy", "profit / customer", f"vs {base}", "contacts / customer", "active at end"):
        table.add_column(col, justify="right" if col != "policy" else "left")
    for name, p in summary["policies"].items():
        e = p["profit_per_customer"]
        d = summary["paired"][name]["profit_per_customer"]
        table.add_row(
            name + (" *" if name == summary["best_policy"] else ""),
            f"${e['mean']:,.2f} [{e['ci_low']:,.2f}, {e['ci_high']:,.2f}]",
            f"{d['mean']:+,.2f} [{d['ci_low']:+,.2f}, {d['ci_high']:+,.2f}]",
            f"{p['contacts_per_customer']['mean']:.1f}",
            f"{p['active_at_end']['mean']:.1%}",
        )
    Console().print(table)
