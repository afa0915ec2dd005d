"""The ledger's SQLite database: members, their cards and codes, the append-only journal, and
the record of every op applied (the idempotency keys).

A member's balance is never stored: it is the sum of the member's journal, so the two cannot
disagree. Writes go through ``transaction()`` (BEGIN IMMEDIATE, WAL, synchronous=FULL), so two
`ledger serve` processes on one file serialise their writes and never apply an op twice.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger.tokens import normalise, token_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    member_id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    tier TEXT NOT NULL DEFAULT 'member',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_key TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members(member_id),
    added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_member ON tokens(member_id);
CREATE TABLE IF NOT EXISTS journal (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id TEXT NOT NULL REFERENCES members(member_id),
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    op_id TEXT,
    basket_id TEXT,
    store TEXT,
    kiosk TEXT,
    kiosk_seq INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_member ON journal(member_id, points);
CREATE TABLE IF NOT EXISTS ops (
    op_id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    kiosk TEXT NOT NULL,
    kiosk_seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refusals (
    op_id TEXT NOT NULL,
    member_id TEXT,
    what TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


class LedgerError(ValueError):
    """A request the ledger cannot carry out (unknown member, duplicate card...)."""


@dataclass(frozen=True)
class MemberRow:
    member_id: str
    name: str
    tier: str
    balance: int


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def new_member_id() -> str:
    return "m-" + uuid.uuid4().hex[:12]


class LedgerStore:
    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- members and tokens ------------------------------------------------------------
    def add_member(self, name: str, cards: list[str] = (), member_id: str | None = None,
                   opening_balance: int = 0, tier: str = "member") -> str:
        """Create a member with its cards and an opening balance, as one transaction."""
        member_id = member_id or new_member_id()
        with self.transaction():
            if self.member(member_id):
                raise LedgerError(f"member {member_id} exists already")
            self.create_member(member_id, name, tier)
            for card in cards:
                self.bind_token(member_id, "uid", card)
            if opening_balance:
                self.journal(member_id, "adjust", opening_balance, reason="opening balance")
        return member_id

    def create_member(self, member_id: str, name: str = "", tier: str = "member") -> None:
        self.db.execute("INSERT INTO members(member_id, name, tier, created_at) VALUES (?,?,?,?)",
                        (member_id, name, tier, now_iso()))

    def bind_token(self, member_id: str, kind: str, value: str) -> None:
        key = token_key(kind, value)
        owner = self.member_of(key)
        if owner is not None and owner != member_id:
            raise LedgerError(f"{key} belongs to member {owner} already")
        self.db.execute("INSERT OR IGNORE INTO tokens VALUES (?,?,?)", (key, member_id, now_iso()))

    def member_of(self, key: str) -> str | None:
        row = self.db.execute("SELECT member_id FROM tokens WHERE token_key=?", (key,)).fetchone()
        return row[0] if row else None

    def member(self, member_id: str) -> MemberRow | None:
        row = self.db.execute("SELECT member_id, name, tier FROM members WHERE member_id=?",
                              (member_id,)).fetchone()
        return MemberRow(row[0], row[1], row[2], self.balance(row[0])) if row else None

    def find(self, who: str) -> MemberRow | None:
        """A member by id, or by a card UID / code value as an operator would type it."""
        found = self.member(who)
        if found:
            return found
        for kind in ("uid", "ndef", "qr"):
            member_id = self.member_of(token_key(kind, who))
            if member_id:
                return self.member(member_id)
        return None

    def members(self) -> list[MemberRow]:
        rows = self.db.execute("SELECT member_id FROM members ORDER BY created_at, member_id")
        return [self.member(r[0]) for r in rows.fetchall()]

    def cards(self, member_id: str) -> list[str]:
        rows = self.db.execute("SELECT token_key FROM tokens WHERE member_id=? ORDER BY added_at",
                               (member_id,))
        return [r[0] for r in rows]

    # -- journal -----------------------------------------------------------------------
    def journal(self, member_id: str, kind: str, points: int, op_id: str | None = None,
                basket_id: str | None = None, origin: tuple[str, str, int] | None = None,
                reason: str = "") -> None:
        store, kiosk, seq = origin or (None, None, None)
        self.db.execute(
            "INSERT INTO journal(member_id, kind, points, op_id, basket_id, store, kiosk,"
            " kiosk_seq, reason, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (member_id, kind, points, op_id, basket_id, store, kiosk, seq, reason, now_iso()))

    def balance(self, member_id: str) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(points), 0) FROM journal WHERE member_id=?",
                              (member_id,)).fetchone()
        return int(row[0])

    def history(self, member_id: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT entry_id, kind, points, op_id, basket_id, store, kiosk, kiosk_seq, reason, at"
            " FROM journal WHERE member_id=? ORDER BY entry_id", (member_id,))
        names = ("entry", "kind", "points", "op_id", "basket_id", "store", "kiosk", "kiosk_seq",
                 "reason", "at")
        return [dict(zip(names, r, strict=True)) for r in rows]

    # -- applied ops (idempotency) ------------------------------------------------------
    def applied(self, op_id: str) -> dict | None:
        row = self.db.execute("SELECT result FROM ops WHERE op_id=?", (op_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def record_op(self, op_id: str, origin: tuple[str, str, int], result: dict) -> None:
        self.db.execute("INSERT INTO ops VALUES (?,?,?,?,?,?,?)",
                        (op_id, *origin, result["status"], json.dumps(result), now_iso()))

    def record_refusal(self, op_id: str, member_id: str | None, what: str, reason: str) -> None:
        self.db.execute("INSERT INTO refusals VALUES (?,?,?,?,?)",
                        (op_id, member_id, what, reason, now_iso()))

    def refusals(self) -> list[dict]:
        rows = self.db.execute("SELECT op_id, member_id, what, reason, at FROM refusals"
                               " ORDER BY rowid")
        return [dict(zip(("op_id", "member_id", "what", "reason", "at"), r, strict=True))
                for r in rows]

    def op_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]


def card_value(value: str) -> str:
    """A card number as stored (upper-case hex for UIDs)."""
    return normalise("uid", value)
