"""``crmgym sim2real``: logged history -> GAN -> agents -> judged in the ground truth."""

from __future__ import annotations

import argparse

from rich.console import Console


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sim2real`` command."""
    p = sub.add_parser(
        "sim2real",
        help="validate GAN-trained policies in the structural ground truth",
        description="Write a campaign log from the ground-truth world, train the GAN on it, "
        "train agents in the GAN world and in the truth, and judge every policy in the truth. "
        "Writes sim2real.json, report.md and plots to --out.",
    )
    p.add_argument("--config", required=True,
                   help="sim-to-real YAML, e.g. experiments/configs/sim2real.yaml")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=_sim2real)


def _sim2real(args: argparse.Namespace) -> int:
    from experiments.sim2real import load_sim2real_config, run_sim2real

    config = load_sim2real_config(args.config)
    result = run_sim2real(config, args.out, progress=args.progress)
    console = Console()
    for name, target in result["targets"].items():
        value = target["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        console.print(f"{name}: {shown} ({'met' if target['met'] else 'NOT met'})")
    console.print(f"report: {args.out}/report.md")
    return 0
