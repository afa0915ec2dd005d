"""Program versions as the back office shows them: publish one, its text, who loaded each, diffs.

Publishing is what `ledger program load` does: the checked body is stored as a new version (with
the text it was written in, and an audit row, in one transaction). A running `ledger serve`
looks for a new version every few seconds (ledger.service PROGRAM_POLL_S) and publishes it,
signed and retained, on ``loyalty/v1/program``; the kiosks take it from there. Nothing here
talks to the broker: the ledger's signing key stays with the service.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from ledger import audit
from ledger.program_check import Checked, check_text
from ledger.store import LedgerError, LedgerStore

ACTION = "program.publish"
TARGET = "program"


@dataclass(frozen=True)
class Version:
    version: int
    name: str
    loaded_at: str
    actor: str | None  # None: loaded before the audit log (or by hand in the database)
    via: str | None


class PublishError(ValueError):
    """A program that cannot be published; the message says why (the Checked, if a text
    problem)."""

    def __init__(self, message: str, checked: Checked | None = None) -> None:
        super().__init__(message)
        self.checked = checked


def publish(store: LedgerStore, text: str, fmt: str, actor: str, via: str) -> dict:
    """Check ``text`` and store it as the new active version; its body. PublishError if the
    text has a problem or its version is not above the latest."""
    checked = check_text(text, fmt)
    if checked.body is None:
        raise PublishError(checked.problem.message, checked)
    save(store, checked.body, text.replace("\r\n", "\n"), fmt, actor, via)
    return checked.body


def save(store: LedgerStore, body: dict, text: str, fmt: str, actor: str, via: str) -> None:
    """Store a checked body with its text and an audit row, in one transaction."""
    version = body["version"]
    try:
        with store.transaction() as db:
            store.insert_program(version, body)
            db.execute("INSERT INTO program_sources (version, format, text) VALUES (?, ?, ?)",
                       (version, fmt, text))
            audit.record(db, actor, via, ACTION, TARGET,
                         {"version": version, "name": body["name"]})
    except LedgerError as exc:
        raise PublishError(str(exc)) from None


def source(store: LedgerStore, version: int) -> tuple[str, str] | None:
    """(format, text) a version was written in; None if it was loaded without one."""
    row = store.db.execute("SELECT format, text FROM program_sources WHERE version = ?",
                           (version,)).fetchone()
    return (row[0], row[1]) if row else None


def editable(store: LedgerStore, version: int, body: dict) -> tuple[str, str]:
    """The text to start editing ``version`` from: its own, or its body written as YAML."""
    import yaml

    return source(store, version) or ("yaml", yaml.safe_dump(body, sort_keys=False,
                                                             allow_unicode=True))


def history(store: LedgerStore) -> list[Version]:
    """Every version, newest first, with who loaded it (from the audit log)."""
    who = {e.detail.get("version"): e
           for e in reversed(audit.entries(store.db, target=TARGET, limit=10_000))
           if e.action == ACTION}
    out = []
    for version, body, loaded_at in reversed(store.programs()):
        entry = who.get(version)
        out.append(Version(version, body.get("name", ""), loaded_at,
                           entry.actor if entry else None, entry.via if entry else None))
    return out


def canonical(body: dict) -> str:
    """The body as sorted, indented JSON: what is signed, independent of how it was written."""
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def diff(store: LedgerStore, old: int, new: int) -> list[str] | None:
    """The unified diff between two versions' canonical text; None if one is unknown."""
    bodies = {v: body for v, body, _ in store.programs()}
    if old not in bodies or new not in bodies:
        return None
    return list(difflib.unified_diff(canonical(bodies[old]).splitlines(),
                                     canonical(bodies[new]).splitlines(),
                                     f"version {old}", f"version {new}", lineterm=""))
