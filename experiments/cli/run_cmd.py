"""``crmgym run CONFIG``: the whole pipeline on a transaction log (the README's main job)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    p = sub.add_parser(
        "run",
        help="the whole pipeline: data -> GAN -> PPO+GRU agent -> evaluation -> report",
    )
    p.add_argument("config", help="pipeline YAML, e.g. experiments/configs/quickstart.yaml")
    p.add_argument("--out", default=None,
                   help="run folder (default: runs/<name>, or runs/<name>-2, ... if that holds a run)")
    p.add_argument("--device", default="cpu", help="torch device for training (cpu, cuda, auto)")
    p.set_defaults(func=_run)


def fresh_run_folder(base: Path) -> Path:
    """``base`` if it holds no finished pipeline run, else the first free ``base-2``, ``base-3``...

    So running the main job again never overwrites (or refuses because of) an earlier report.
    """
    candidate, n = base, 1
    while (candidate / "pipeline.json").exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _run(args: argparse.Namespace) -> int:
    from experiments.cli.evaluate_cmd import print_table
    from experiments.pipeline import load_pipeline_config, run_pipeline

    cfg = load_pipeline_config(args.config)
    out = Path(args.out) if args.out else fresh_run_folder(Path("runs") / cfg.name)
    console = Console()
    console.print(f"crmgym run: {cfg.name} -> {out}")
    summary = run_pipeline(cfg, out, device=args.device)
    print_table(summary["evaluation"])
    console.print(f"\nReport: [bold]{out / 'report.md'}[/bold]")
    return 0
