"""``crmgym gan ...``: train the GAN customer simulator and report on its fidelity.

* ``crmgym gan train --data cdnow --out runs/gan [--calibration-periods 39] [--epochs N]
  [--seed S] [--device cpu|cuda] [--config FILE] [--resume]`` writes
  ``simulator.safetensors`` (the best generator), ``training.safetensors`` (for
  ``--resume``), ``tensorboard/``, ``history.json`` and ``config.yaml`` to ``--out``.
* ``crmgym gan report CHECKPOINT --data cdnow --out DIR`` writes ``report.md``, figures and
  ``report.json`` (fidelity, discriminative score, TSTR, the CDNOW holdout test next to BG/NBD,
  privacy).
* ``crmgym gan holdout CHECKPOINT [CHECKPOINT ...] --data cdnow [--samples 16] [--json FILE]``
  runs only the holdout test, for several checkpoints (e.g. the epochs kept by
  ``train.snapshot_every``), and prints their errors next to BG/NBD's.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

import yaml

from experiments.cli.common import add_data_arguments, load_data
from gan_simulator.configuration import from_mapping, load_yaml, to_mapping
from gan_simulator.errors import ConfigError, DataError
from gan_simulator.io import write_text

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``gan`` command group."""
    gan = sub.add_parser("gan", help="train the GAN customer simulator and report on it")
    gan_sub = gan.add_subparsers(dest="gan_command", metavar="SUBCOMMAND")
    gan_sub.required = True

    train = gan_sub.add_parser("train", help="train a GAN simulator on a transaction log")
    add_data_arguments(train)
    train.add_argument("--out", required=True, help="run folder for checkpoints and logs")
    train.add_argument("--calibration-periods", type=int, default=None, metavar="T",
                       help="train on the first T weeks only (39 for the CDNOW holdout test)")
    train.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    train.add_argument("--seed", type=int, default=None, help="override train.seed")
    train.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    train.add_argument("--config", default=None, help="YAML with 'model' and 'train' sections")
    train.add_argument("--resume", action="store_true",
                       help="continue from OUT/training.safetensors after an interruption")
    train.add_argument("--threads", type=int, default=None,
                       help="torch CPU threads (default: torch's choice)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(func=_train)

    report = gan_sub.add_parser("report", help="fidelity, holdout-forecast and privacy report")
    report.add_argument("checkpoint", help="simulator.safetensors of a trained GAN ('default' "
                        "for the shipped one)")
    add_data_arguments(report)
    report.add_argument("--out", required=True, help="folder for report.md, report.json, figures")
    report.add_argument("--calibration-periods", type=int, default=39, metavar="T",
                        help="calibration weeks of the holdout test (default: 39)")
    report.add_argument("--seed", type=int, default=0, help="seed of every metric (default: 0)")
    report.add_argument("--quick", action="store_true", help="small samples (smoke runs)")
    report.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    report.set_defaults(func=_report)

    holdout = gan_sub.add_parser("holdout", help="holdout forecast test of one or more checkpoints")
    holdout.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                         help="simulator checkpoints ('default' for the shipped one)")
    add_data_arguments(holdout)
    holdout.add_argument("--calibration-periods", type=int, default=39, metavar="T",
                         help="calibration weeks (default: 39)")
    holdout.add_argument("--samples", type=int, default=16,
                         help="sample paths per customer (default: 16, as in the report)")
    holdout.add_argument("--seed", type=int, default=0, help="seed of the sample paths")
    holdout.add_argument("--json", default=None, help="also write the rows to this JSON file")
    holdout.set_defaults(func=_holdout)


def _config(args: argparse.Namespace):  # noqa: ANN202 - returns GanConfig
    from gan_simulator.training import GanConfig

    cfg = from_mapping(GanConfig, load_yaml(args.config) if args.config else {})
    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    if overrides:
        cfg = replace(cfg, train=from_mapping(type(cfg.train), {**to_mapping(cfg.train), **overrides},
                                              "train"))
    return cfg


def _panel(args: argparse.Namespace, calibration: int | None):  # noqa: ANN202
    from gan_simulator.data import build_panel

    panel = build_panel(load_data(args))
    if calibration is not None:
        if not 2 <= calibration <= panel.n_periods:
            raise DataError(
                f"--calibration-periods {calibration} is outside 2..{panel.n_periods} "
                f"(the log has {panel.n_periods} weeks)")
        panel = panel.time_slice(0, calibration)
        keep = panel.mask.any(axis=1)
        panel = panel.subset(keep.nonzero()[0])
    return panel


def _train(args: argparse.Namespace) -> int:
    import torch

    from gan_simulator.training import train_gan

    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads {args.threads} must be >= 1")
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but no CUDA device is available; use --device cpu")
    cfg = _config(args)
    panel = _panel(args, args.calibration_periods)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", yaml.safe_dump(
        {**to_mapping(cfg), "data": str(args.data), "calibration_periods": args.calibration_periods},
        sort_keys=False))
    logger.info("training on %d customers x %d weeks", panel.n_customers, panel.n_periods)
    result = train_gan(panel, cfg, out, device=args.device, resume=args.resume,
                       progress=not args.no_progress)
    logger.info("done: %d epochs in %.1f s, best validation NLL %.4f -> %s",
                result.epochs_run, result.seconds, result.best_score, result.checkpoint)
    return 0


def _report(args: argparse.Namespace) -> int:
    from gan_simulator.data import build_panel
    from gan_simulator.metrics.report import write_report

    sim = _load_simulator(args.checkpoint, args.device)
    frame = load_data(args)
    panel = build_panel(frame)
    train_info = sim.meta.get("training", {})
    split_seed = sim.config.train.split_seed
    report = write_report(sim, panel, Path(args.out), calibration_periods=args.calibration_periods,
                          seed=args.seed, train_seconds=train_info.get("run_seconds", train_info.get("seconds")),
                          quick=args.quick, split_seed=split_seed, transactions=frame)
    h = report["holdout"]
    logger.info("holdout total error: GAN %+.1f%%, BG/NBD %+.1f%%; weekly MAPE: GAN %.1f%%, "
                "BG/NBD %.1f%% -> %s", 100 * h["gan"]["total_error"], 100 * h["bgnbd"]["total_error"],
                100 * h["gan"]["weekly_mape"], 100 * h["bgnbd"]["weekly_mape"], args.out)
    return 0


def _load_simulator(checkpoint: str, device: str = "cpu"):  # noqa: ANN202 - GANSimulator
    """A checkpoint path, or ``default`` for the shipped simulator."""
    from gan_simulator.simulator import GANSimulator

    if checkpoint == "default":
        return GANSimulator.default()
    return GANSimulator.load(checkpoint, device=device)


def _holdout(args: argparse.Namespace) -> int:
    from gan_simulator.data import build_panel
    from gan_simulator.io import write_json
    from gan_simulator.metrics.report import holdout_forecast_test

    if args.samples < 1:
        raise ConfigError(f"--samples {args.samples} must be >= 1")
    frame = load_data(args)
    panel = build_panel(frame)
    if not 2 <= args.calibration_periods < panel.n_periods:
        raise ConfigError(f"--calibration-periods {args.calibration_periods} is outside "
                          f"2..{panel.n_periods - 1} for this log of {panel.n_periods} weeks")
    rows = []
    print(f"{'checkpoint':<48} {'total error':>12} {'weekly MAPE':>12}")
    for path in args.checkpoints:
        sim = _load_simulator(path)
        result = holdout_forecast_test(sim, panel, args.calibration_periods, samples=args.samples,
                                       seed=args.seed, transactions=frame).to_dict()
        gan, bgnbd = result["gan"], result["bgnbd"]
        rows.append({"checkpoint": str(path), "total_error": gan["total_error"],
                     "weekly_mape": gan["weekly_mape"]})
        print(f"{str(path)[-48:]:<48} {gan['total_error']:>+12.2%} {gan['weekly_mape']:>12.2%}",
              flush=True)
    print(f"{'BG/NBD (same calibration data)':<48} {bgnbd['total_error']:>+12.2%} "
          f"{bgnbd['weekly_mape']:>12.2%}")
    if args.json:
        write_json(args.json, {"calibration_periods": args.calibration_periods,
                               "samples": args.samples, "seed": args.seed, "rows": rows,
                               "bgnbd": {"total_error": bgnbd["total_error"],
                                         "weekly_mape": bgnbd["weekly_mape"]}})
    return 0
