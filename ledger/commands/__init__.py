"""Subcommands of `ledger`, one module each, and the options they share."""

from __future__ import annotations

import os

DEFAULT_DB = "/var/lib/loyalty-ledger/ledger.db"


def add_db_option(parser) -> None:
    parser.add_argument("--db", default=os.environ.get("LEDGER_DB", DEFAULT_DB),
                        help="the ledger's SQLite file or a postgresql://user@host:port/dbname URL"
                        f" (env LEDGER_DB; default {DEFAULT_DB})")


def open_store(args):
    """The store ``--db`` names; exits with a clear message if it cannot be opened."""
    import sys

    from ledger.db import SchemaError, Unavailable
    from ledger.store import LedgerStore

    try:
        return LedgerStore(args.db)
    except (SchemaError, Unavailable) as exc:
        print(f"ledger: cannot open the database: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
