"""The ``crmgym`` command line: one entry point, one module per sub-command group.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
sub-command(s) and sets ``func`` on the parser to a callable taking the parsed namespace and
returning an exit code. Any :class:`~gan_simulator.errors.CrmgymError` becomes a one-paragraph
message on stderr and exit code 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from gan_simulator.errors import CrmgymError

COMMAND_MODULES: tuple[str, ...] = (
    "experiments.cli.data_cmd",
    "experiments.cli.decide_cmd",
    "experiments.cli.evaluate_cmd",
    "experiments.cli.gan_cmd",
    "experiments.cli.replay_cmd",
    "experiments.cli.run_cmd",
    "experiments.cli.sim2real_cmd",
    "experiments.cli.train_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="crmgym",
        description="GAN-simulated customers and deep-RL retention policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``crmgym``; returns the process exit code (0 ok, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except CrmgymError as exc:
        print(f"crmgym: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crmgym: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
