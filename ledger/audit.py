"""The audit log: one row per change made by a person, through the web (``via="web"``) or the CLI
(``via="cli"``), written in the change's own transaction so the log and the data never disagree.

``actor`` is a back-office user name, or ``cli:<os user>`` for the command line. ``detail`` holds
what changed (amounts, reasons, versions), never a member's contact data.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass

from ledger.events import now_iso


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    via: str
    action: str
    target: str | None
    detail: dict


def cli_actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's uid)
        return "cli:unknown"


def record(db, actor: str, via: str, action: str, target: str | None = None,
           detail: dict | None = None) -> None:
    """Log one change on ``db`` (the change's open transaction)."""
    if via not in ("web", "cli"):
        raise ValueError(f"via must be 'web' or 'cli', not {via!r}")
    db.execute("INSERT INTO audit_log (at, actor, via, action, target, detail)"
               " VALUES (?, ?, ?, ?, ?, ?)",
               (now_iso(), actor, via, action, target, json.dumps(detail or {}, sort_keys=True)))


def entries(db, target: str | None = None, before: int | None = None,
            limit: int = 100) -> list[Entry]:
    """Newest first; only about ``target`` when given; ``before`` pages back by ``seq``."""
    sql, params = "SELECT seq, at, actor, via, action, target, detail FROM audit_log WHERE 1=1", []
    if target is not None:
        sql, params = sql + " AND target = ?", [*params, target]
    if before is not None:
        sql, params = sql + " AND seq < ?", [*params, before]
    rows = db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
    return [Entry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]
