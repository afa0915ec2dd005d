"""Which automations run, with what settings: the active program file's ``[automations]``
section (program.automations, its defaults without one), where a switch a person flipped on
the web page or with `ledger automations enable|disable` overrides ``enabled``. A switch is a
row in automation_switches, audited; publishing a new program keeps it (remove it with
`ledger automations reset NAME` to follow the file again)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ledger import audit
from ledger.programs import ProgramBook
from ledger.store import LedgerError, LedgerStore, now_iso
from program.automations import DEFAULTS, NAMES, Automation, parse_automations
from program.engine import Program


@dataclass(frozen=True)
class Switch:
    enabled: bool
    actor: str
    at: str


def active(store: LedgerStore) -> tuple[Program, dict[str, Automation]]:
    """The active program and every automation's settings (switches applied)."""
    book = ProgramBook.load(store)
    body = book.bodies.get(book.version, {}) if book.version is not None else {}
    found = parse_automations(body.get("automations", {})) if body else dict(DEFAULTS)
    flipped = switches(store)
    return book.active, {name: replace(a, enabled=flipped[name].enabled) if name in flipped else a
                         for name, a in found.items()}


def switches(store: LedgerStore) -> dict[str, Switch]:
    rows = store.db.execute("SELECT automation, enabled, actor, at FROM automation_switches")
    return {r[0]: Switch(bool(r[1]), r[2], r[3]) for r in rows.fetchall()}


def check_name(name: str) -> str:
    if name not in NAMES:
        raise LedgerError(f"{name!r} is not an automation; one of {', '.join(NAMES)}")
    return name


def switch(store: LedgerStore, name: str, enabled: bool | None, actor: str, via: str) -> None:
    """Turn ``name`` on or off over the program file (``enabled`` None: follow the file again),
    audited in the same transaction."""
    check_name(name)
    with store.transaction() as db:
        db.execute("DELETE FROM automation_switches WHERE automation = ?", (name,))
        if enabled is not None:
            db.execute("INSERT INTO automation_switches VALUES (?, ?, ?, ?)",
                       (name, int(enabled), actor, now_iso()))
        action = {True: "automation.enable", False: "automation.disable", None: "automation.reset"}
        audit.record(db, actor, via, action[enabled], name, {})
