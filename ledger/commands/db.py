"""`ledger db upgrade` / `ledger db status`: the database schema's migrations (yoyo)."""

from __future__ import annotations

import sys

from ledger.commands import add_db_option
from ledger.db import redact as db_redact


def register(subs) -> None:
    p = subs.add_parser("db", help="database schema: upgrade, status")
    dbsubs = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, func, text in (("upgrade", _upgrade, "apply the pending schema migrations"),
                             ("status", _status, "list the migrations not yet applied")):
        sp = dbsubs.add_parser(name, help=text)
        add_db_option(sp)
        sp.set_defaults(func=func)


def _run(args, what):
    from ledger import db

    try:
        return what(db, args.db)
    except db.Unavailable as exc:
        print(f"ledger db: {exc}", file=sys.stderr)
        return None
    except Exception as exc:  # noqa: BLE001 - driver errors differ; name the database
        print(f"ledger db: {db_redact(args.db)}: {exc}".strip(), file=sys.stderr)
        return None


def _upgrade(args) -> int:
    done = _run(args, lambda db, url: db.upgrade(url))
    if done is None:
        return 1
    print("applied: " + ", ".join(done) if done else "schema is up to date")
    return 0


def _status(args) -> int:
    todo = _run(args, lambda db, url: db.pending(url))
    if todo is None:
        return 1
    print("pending: " + ", ".join(todo) if todo else "schema is up to date")
    return 0
