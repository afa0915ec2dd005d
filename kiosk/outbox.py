"""The durable outbox: ops wait here (SQLite, WAL, synchronous=FULL) until the ledger acks.

An op is written in the same transaction that records its basket as settled,
so a retained 'paid' basket seen again after a crash never makes a second op,
and an op the customer was told about is on disk (kill -9 or power loss after
that loses nothing). ``kiosk_seq`` (AUTOINCREMENT, never reused) orders replay,
because the Pi has no real-time clock to order by.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mqtt import limits, messages

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    kiosk_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    basket_id TEXT,
    member_key TEXT NOT NULL,
    points_delta INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_wall REAL NOT NULL,
    created_at TEXT NOT NULL,
    checked TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS baskets (
    basket_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    op_id TEXT,
    settled_wall REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
    basket_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    op_id TEXT PRIMARY KEY,
    kiosk_seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected_wall REAL NOT NULL
);
"""


class OutboxFull(RuntimeError):
    """The outbox holds ``max_ops``: a new op cannot be saved."""


@dataclass(frozen=True)
class PendingOp:
    kiosk_seq: int
    op_id: str
    member_key: str
    points_delta: int
    body: dict
    checked: bool = False  # valid under the op schema this code has (checked when queued)

    def message(self) -> dict:
        """The op as sent: its stored body plus the kiosk sequence number."""
        message = {**self.body, "kiosk_seq": self.kiosk_seq}
        return messages.Checked("op", message) if self.checked else message


def _checked(op: dict) -> str:
    """The op schema's digest when ``op`` passes it (with the highest kiosk_seq, so with any
    it can get), else "": the replayer then checks it on sending, and sets it aside if bad."""
    try:
        messages.validate("op", {**op, "kiosk_seq": limits.KIOSK_SEQ})
    except messages.BadMessage:
        return ""
    return messages.digest("op")


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    oldest_age_s: float | None
    rejected: int


def connect(path: str | Path) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class Outbox:
    def __init__(self, path: str | Path, max_ops: int = 50000) -> None:
        self.path = str(path)
        self.max_ops = max_ops
        self.db = connect(path)
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(ops)")}
        if "checked" not in columns:  # an outbox from before the column: its ops are checked
            self.db.execute("ALTER TABLE ops ADD COLUMN checked TEXT NOT NULL DEFAULT ''")
        self._depth = self._count()

    def close(self) -> None:
        self.db.close()

    # -- writing ----------------------------------------------------------------
    def settle(self, basket_id: str | None, status: str, op: dict | None,
               member_key: str = "", points_delta: int = 0) -> int | None:
        """Record the basket as settled and, with it, the op. Returns the op's kiosk_seq.

        Returns None and writes nothing when this basket was settled before.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if basket_id is not None:
                seen = self.db.execute("SELECT 1 FROM baskets WHERE basket_id=?",
                                       (basket_id,)).fetchone()
                if seen:
                    self.db.execute("ROLLBACK")
                    return None
            seq = None
            if op is not None:
                seq = self._insert(op, basket_id, member_key, points_delta)
            if basket_id is not None:
                self.db.execute(
                    "INSERT INTO baskets(basket_id, status, op_id, settled_wall) VALUES (?,?,?,?)",
                    (basket_id, status, op["op_id"] if op else None, time.time()))
                self.db.execute("DELETE FROM attachments WHERE basket_id=?", (basket_id,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        if seq is not None:
            self._depth += 1
        return seq

    def add_many(self, ops: Iterable[tuple[dict, str, int]]) -> list[int]:
        """Group commit: several (op, member_key, points_delta) in one transaction."""
        with self._immediate():
            seqs = [self._insert(op, None, key, delta) for op, key, delta in ops]
        self._depth += len(seqs)
        return seqs

    def add_once(self, op: dict, basket_id: str | None = None) -> int | None:
        """Queue an op whose op_id is derived from its request (a refund), unless it is queued
        already: the same request sent twice is one op. Returns its kiosk_seq, or None."""
        return self._write_once(op, basket_id, None)

    def post_void(self, basket_id: str, op: dict) -> int | None:
        """A void of a basket settled as paid with an op: queue the refund op and mark the
        basket voided, in one transaction. None (nothing written) for any other basket."""
        return self._write_once(op, basket_id, basket_id)

    def _write_once(self, op: dict, basket_id: str | None, voids: str | None) -> int | None:
        with self._immediate():
            seq = None
            queued = self.db.execute("SELECT 1 FROM ops WHERE op_id=?", (op["op_id"],)).fetchone()
            paid = voids is None or self.db.execute(
                "SELECT 1 FROM baskets WHERE basket_id=? AND status='paid' AND op_id IS NOT NULL",
                (voids,)).fetchone()
            if paid and not queued:
                seq = self._insert(op, basket_id, "", 0)  # the ledger knows whose sale it was
                if voids is not None:
                    self.db.execute("UPDATE baskets SET status='voided' WHERE basket_id=?",
                                    (voids,))
        if seq is not None:
            self._depth += 1
        return seq

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): committed, or rolled back
        on any error, the error raised again."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _insert(self, op: dict, basket_id: str | None, member_key: str, delta: int) -> int:
        if self._depth >= self.max_ops:
            raise OutboxFull(f"outbox holds {self._depth} ops (limit {self.max_ops})")
        cur = self.db.execute(
            "INSERT INTO ops(op_id, basket_id, member_key, points_delta, payload, created_wall,"
            " created_at, checked) VALUES (?,?,?,?,?,?,?,?)",
            (op["op_id"], basket_id, member_key, delta, json.dumps(op, separators=(",", ":")),
             time.time(), op.get("created_at", ""), _checked(op)))
        return cur.lastrowid

    def ack(self, op_ids: Iterable[str]) -> int:
        """Delete acked ops (one transaction for the batch). Returns how many were removed."""
        ids = [(i,) for i in op_ids]
        if not ids:
            return 0
        with self._immediate():
            before = self.db.total_changes
            self.db.executemany("DELETE FROM ops WHERE op_id=?", ids)
            removed = self.db.total_changes - before
        self._depth -= removed
        return removed

    def reject(self, op_id: str, reason: str) -> bool:
        """The ledger refused the op: keep it in ``rejected`` for reports, out of the queue."""
        with self._immediate():
            row = self.db.execute("SELECT kiosk_seq, payload FROM ops WHERE op_id=?",
                                  (op_id,)).fetchone()
            if row:
                self.db.execute("INSERT OR REPLACE INTO rejected VALUES (?,?,?,?,?)",
                                (op_id, row[0], row[1], reason, time.time()))
                self.db.execute("DELETE FROM ops WHERE op_id=?", (op_id,))
        if row:
            self._depth -= 1
        return bool(row)

    def note_refusal(self, op_id: str, reason: str) -> None:
        """The ledger applied the op but refused part of it (a redemption): keep a copy for
        reports; the op itself leaves the queue with its ack as usual."""
        self.db.execute("INSERT OR REPLACE INTO rejected SELECT op_id, kiosk_seq, payload, ?, ?"
                        " FROM ops WHERE op_id=?", (reason, time.time(), op_id))

    # -- attachments: the member on a basket survives a restart -----------------
    def save_attachment(self, basket_id: str, data: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO attachments VALUES (?,?)",
                        (basket_id, json.dumps(data)))

    def load_attachment(self, basket_id: str) -> dict | None:
        row = self.db.execute("SELECT data FROM attachments WHERE basket_id=?",
                              (basket_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def drop_attachment(self, basket_id: str) -> None:
        self.db.execute("DELETE FROM attachments WHERE basket_id=?", (basket_id,))

    # -- reading ------------------------------------------------------------------
    def is_settled(self, basket_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM baskets WHERE basket_id=?",
                               (basket_id,)).fetchone() is not None

    def pending(self, limit: int = 1000, after_seq: int = 0) -> list[PendingOp]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM ops WHERE kiosk_seq > ? ORDER BY kiosk_seq LIMIT ?",
            (after_seq, limit)).fetchall()
        return [_pending(r) for r in rows]

    def get(self, op_id: str) -> PendingOp | None:
        r = self.db.execute(f"SELECT {_COLUMNS} FROM ops WHERE op_id=?", (op_id,)).fetchone()
        return _pending(r) if r else None

    def pending_points(self) -> dict[str, int]:
        """Points not yet confirmed by the ledger, per member key."""
        rows = self.db.execute("SELECT member_key, SUM(points_delta) FROM ops GROUP BY member_key")
        return {k: v for k, v in rows}

    def depth(self) -> int:
        return self._depth

    def _count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]

    def stats(self) -> OutboxStats:
        oldest = self.db.execute("SELECT MIN(created_wall) FROM ops").fetchone()[0]
        rejected = self.db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]
        return OutboxStats(self._count(), None if oldest is None else max(0.0, time.time() - oldest),
                           rejected)

    def rejected(self) -> list[dict]:
        rows = self.db.execute("SELECT op_id, kiosk_seq, payload, reason FROM rejected"
                               " ORDER BY kiosk_seq")
        return [{"op_id": r[0], "kiosk_seq": r[1], "op": json.loads(r[2]), "reason": r[3]}
                for r in rows]


_COLUMNS = "kiosk_seq, op_id, member_key, points_delta, payload, checked"


def _pending(r: tuple) -> PendingOp:
    # checked by a version whose op schema differs (or not at all): checked again on sending
    return PendingOp(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5] == messages.digest("op"))
