"""``crmgym train``: train an agent from a config file into a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from experiments.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    p = sub.add_parser(
        "train",
        help="train an RL agent on simulated customers",
        description="Train the agent of a config file; outputs go to a run folder "
        "(config, seeds, versions, TensorBoard, checkpoints, final model, train_summary.json).",
    )
    p.add_argument("--config", required=True, help="experiment YAML, e.g. experiments/configs/ppo_gru.yaml")
    p.add_argument("--out", default=None, help="run folder (default: runs/<name>_seed<seed>)")
    p.add_argument("--seed", type=int, default=None, help="override training.seed")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its newest checkpoint")
    p.add_argument("--device", default=None, help="override training.device (auto, cpu, cuda...)")
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from experiments.training import train

    config = load_config(args.config).with_overrides(seed=args.seed, device=args.device)
    out = Path(args.out) if args.out else Path("runs") / f"{config.name}_seed{config.training.seed}"
    result = train(config, out, resume=args.resume, argv=["train", *_argv(args)])
    summary = result.summary
    console = Console()
    console.print(f"trained {summary['algorithm']}+{summary['extractor']} for "
                  f"{summary['total_timesteps']:,} steps -> {result.run_dir}")
    final = summary.get("final_evaluation")
    if final:
        a, b = final["agent"], final["baseline"]
        console.print(
            f"profit per customer on {final['n_customers']:,} fresh customers: "
            f"agent ${a['profit_per_customer']:.2f} vs {final['baseline_name']} "
            f"${b['profit_per_customer']:.2f}; paired difference ${a['profit_diff_vs_baseline']:.2f} "
            f"(95% CI {a['profit_diff_ci_low']:.2f} to {a['profit_diff_ci_high']:.2f})"
        )
    return 0


def _argv(args: argparse.Namespace) -> list[str]:
    out = ["--config", str(args.config)]
    for flag, value in (("--out", args.out), ("--seed", args.seed), ("--device", args.device)):
        if value is not None:
            out += [flag, str(value)]
    return out + (["--resume"] if args.resume else [])
