"""`ledger` command line. Each subcommand lives in its own module under ledger.commands.

A command module has ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed args, returning an exit status). Keep module-level
imports light there: heavy imports belong inside ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS = [
    "ledger.commands.serve",
    "ledger.commands.lookup",
    "ledger.commands.members",
    "ledger.commands.cards",
    "ledger.commands.balance",
    "ledger.commands.qr",
    "ledger.commands.broker_config",
    "ledger.commands.provision_code",
    "ledger.commands.fleet",
    "ledger.commands.config_update",
    "ledger.commands.program",
    "ledger.commands.db",
    "ledger.commands.adjust",
    "ledger.commands.consent",
    "ledger.commands.report",
    "ledger.commands.segments",
    "ledger.commands.webhooks",
    "ledger.commands.automations",
    "ledger.commands.users",
    "ledger.commands.web",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger", description="The loyalty ledger: serve, look up, report.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("yoyo").setLevel(logging.WARNING)  # one line per migration step
    from ledger.store import LedgerError

    try:
        return args.func(args) or 0
    except LedgerError as exc:  # what a command refuses (no such member, not enough points, ...)
        print(f"ledger: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
