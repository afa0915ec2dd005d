"""Subcommands of `ledger`, one module each, and the options they share."""

from __future__ import annotations

import os

DEFAULT_DB = "/var/lib/loyalty-ledger/ledger.db"


def add_db_option(parser) -> None:
    parser.add_argument("--db", default=os.environ.get("LEDGER_DB", DEFAULT_DB),
                        help="the ledger's SQLite file or a postgresql://user@host:port/dbname URL"
                        f" (env LEDGER_DB; default {DEFAULT_DB})")


def open_store(args):
    from ledger.store import LedgerStore

    return LedgerStore(args.db)
