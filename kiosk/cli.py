"""`kiosk` command line. Each subcommand lives in its own module under kiosk.commands.

A command module has ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed args, returning an exit status). Keep module-level
imports light there: heavy imports belong inside ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = [
    "kiosk.commands.run",
    "kiosk.commands.config",
    "kiosk.commands.queue",
    "kiosk.commands.pos_sim",
    "kiosk.commands.sim",
    "kiosk.commands.drive",
    "kiosk.commands.screens",
    "kiosk.commands.readers",
    "kiosk.commands.provision",
    "kiosk.commands.doctor",
    "kiosk.commands.install",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Loyalty kiosk daemon and tools.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kiosk.logs import setup

    setup(args.verbose)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
