"""The sends: one row per (automation, member, occasion), the unique key that makes a run
idempotent and two concurrent runs safe.

A send is claimed (state ``sending``) and committed BEFORE the email goes out, then marked
``sent`` (with its automation.fired event) or ``failed``. So email is at-most-once: a crash
between the SMTP server's acceptance and the mark leaves ``sending``, which no later run sends
again (`ledger automations list` counts them as unsure). A ``failed`` send, which the SMTP
server refused or never got, is claimed again by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger import events
from ledger.automations.occasion import Occasion
from ledger.store import LedgerStore, now_iso

SENDING, SENT, FAILED = "sending", "sent", "failed"
PERSONAL = ("birthday",)  # figures an event must not carry (a birth date is personal data)


@dataclass(frozen=True)
class Send:
    send_id: int
    automation: str
    member_id: str
    occasion: str
    state: str
    channels: tuple[str, ...]
    language: str | None
    error: str | None
    created_at: str
    finished_at: str | None


def known(store: LedgerStore, automation: str) -> dict[tuple[str, str], str]:
    """(member, occasion) -> state, of every send of ``automation``."""
    rows = store.db.execute("SELECT member_id, occasion, state FROM automation_sends"
                            " WHERE automation = ?", (automation,)).fetchall()
    return {(m, o): s for m, o, s in rows}


def recent_count(db, automation: str, member_id: str, since: str) -> int:
    """Sends of ``automation`` to the member since ``since`` that count for its cap."""
    return db.execute("SELECT COUNT(*) FROM automation_sends WHERE automation = ? AND"
                      " member_id = ? AND created_at >= ? AND state <> ?",
                      (automation, member_id, since, FAILED)).fetchone()[0]


def claim(db, occasion: Occasion, channels: tuple[str, ...], language: str | None,
          at: str) -> int | None:
    """Claim the send in the caller's transaction, at ``at`` (the run's time, which caps count
    from): its id, or None when another run (or an earlier one) has it already."""
    inserted = db.execute(
        "INSERT INTO automation_sends (automation, member_id, occasion, state, channels,"
        " language, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (occasion.automation, occasion.member_id, occasion.key, SENDING, ",".join(channels),
         language, at),
    ).rowcount
    retried = 0 if inserted else db.execute(
        "UPDATE automation_sends SET state = ?, channels = ?, language = ?, error = NULL,"
        " created_at = ? WHERE automation = ? AND member_id = ? AND occasion = ? AND state = ?",
        (SENDING, ",".join(channels), language, at, occasion.automation,
         occasion.member_id, occasion.key, FAILED),
    ).rowcount
    if not (inserted or retried):
        return None
    return db.execute("SELECT send_id FROM automation_sends WHERE automation = ? AND"
                      " member_id = ? AND occasion = ?",
                      (occasion.automation, occasion.member_id, occasion.key)).fetchone()[0]


def mark_sent(db, send_id: int, occasion: Occasion, channels: tuple[str, ...]) -> None:
    """The send went out: its state, and the automation.fired event (the webhook channel)."""
    db.execute("UPDATE automation_sends SET state = ?, finished_at = ? WHERE send_id = ?",
               (SENT, now_iso(), send_id))
    events.emit(db, "automation.fired", occasion.member_id, {
        "automation": occasion.automation, "occasion": occasion.key, "send_id": send_id,
        "channels": list(channels),
        "figures": {k: v for k, v in occasion.figures.items() if k not in PERSONAL}})


def mark_failed(db, send_id: int, error: str) -> None:
    db.execute("UPDATE automation_sends SET state = ?, error = ?, finished_at = ?"
               " WHERE send_id = ?", (FAILED, error, now_iso(), send_id))


def recent(store: LedgerStore, automation: str | None = None, limit: int = 50) -> list[Send]:
    """The newest sends first (of one automation when named)."""
    where, params = ("WHERE automation = ?", [automation]) if automation else ("", [])
    rows = store.db.execute(
        "SELECT send_id, automation, member_id, occasion, state, channels, language, error,"
        f" created_at, finished_at FROM automation_sends {where} ORDER BY send_id DESC LIMIT ?",
        (*params, limit)).fetchall()
    return [Send(r[0], r[1], r[2], r[3], r[4], tuple(r[5].split(",")), *r[6:]) for r in rows]


def counts(store: LedgerStore) -> dict[tuple[str, str], int]:
    """(automation, state) -> number of sends."""
    rows = store.db.execute("SELECT automation, state, COUNT(*) FROM automation_sends"
                            " GROUP BY automation, state").fetchall()
    return {(a, s): int(n) for a, s, n in rows}
