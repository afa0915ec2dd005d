"""Business events: what happened to a member or the program, as one row per event.

``emit`` writes inside the caller's open transaction, so an event exists exactly when the change
it describes was committed (a rolled-back apply leaves no event). Readers (webhooks, automations,
the back office) page through events in ``seq`` order with ``since``.

Event types are dotted names; ``TYPES`` lists the ones the ledger emits, so a subscriber can be
checked against them. ``data`` holds ids, sums and dates, never personal data (no names, emails
or phone numbers): a receiver that needs them asks the ledger for the member.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

TYPES = (
    "member.created", "member.updated", "member.forgotten",
    "points.earned", "points.redeemed", "points.returned", "points.expired", "points.adjusted",
    "tier.changed", "segment.entered", "segment.left", "automation.fired",
)


@dataclass(frozen=True)
class Event:
    seq: int
    event_id: str
    type: str
    member_id: str | None
    data: dict
    at: str

    def as_dict(self) -> dict:
        return {"id": self.event_id, "type": self.type, "member_id": self.member_id,
                "data": self.data, "at": self.at}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


COLUMNS = ("event_id", "type", "member_id", "data", "at")
_encode = json.JSONEncoder(sort_keys=True).encode  # one encoder: json.dumps(...) makes one a call


def row(type_: str, member_id: str | None, data: dict, at: str | None = None) -> tuple:
    """One event as a row of ``COLUMNS``, for a batch written in one statement (store.write_many)."""
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}; known: {', '.join(TYPES)}")
    return (new_id(), type_, member_id, _encode(data), at or now_iso())


def new_id() -> str:
    """``evt_``, the time in µs and 64 random bits, in hex: unique, and in time order, so the
    unique index grows at its end (random ids cost the batch a b-tree page each)."""
    return f"evt_{time.time_ns() // 1000:014x}{os.urandom(8).hex()}"


def emit(db, type_: str, member_id: str | None, data: dict, at: str | None = None) -> str:
    """Record one event on ``db`` (an open transaction's connection); return its id."""
    event = row(type_, member_id, data, at)
    db.execute("INSERT INTO events (event_id, type, member_id, data, at) VALUES (?, ?, ?, ?, ?)",
               event)
    return event[0]



def since(db, seq: int = 0, types: tuple[str, ...] = (), limit: int = 500) -> list[Event]:
    """Events after ``seq``, oldest first, optionally of some types only."""
    sql = "SELECT seq, event_id, type, member_id, data, at FROM events WHERE seq > ?"
    params: list = [seq]
    if types:
        sql += f" AND type IN ({', '.join('?' * len(types))})"
        params += list(types)
    rows = db.execute(sql + " ORDER BY seq LIMIT ?", (*params, limit)).fetchall()
    return [Event(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]
