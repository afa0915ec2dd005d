"""The ledger's database (SQLite or PostgreSQL, see ledger.db): members, their cards and codes,
the append-only journal, the record of every op applied (the idempotency keys), and the program
versions.

A member's balance is never stored: it is the sum of the member's journal, so the two cannot
disagree. Writes go through ``transaction()``. On SQLite (BEGIN IMMEDIATE, WAL,
synchronous=FULL) two `ledger serve` processes on one file serialise their writes; on
PostgreSQL they run side by side and the unique op_id settles a race (see db.retryable).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from codes.tokens import token_key
from ledger import audit, events
from ledger import db as dbm
from ledger.write_lock import WriteLock
from mqtt.timestamps import now_iso


class LedgerError(ValueError):
    """A request the ledger cannot carry out (unknown member, duplicate card...)."""


@dataclass(frozen=True)
class MemberRow:
    member_id: str
    name: str
    tier: str
    balance: int


def new_member_id() -> str:
    return "m-" + uuid.uuid4().hex[:12]


class LedgerStore:
    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        """Open the ledger at ``path`` (a file, or a postgresql:// URL).

        A SQLite file is brought up to the current schema on open; a PostgreSQL database must
        be upgraded by the operator (`ledger db upgrade`), and opening it says so if it was not.
        """
        self.path = str(path)
        self.postgres = dbm.is_postgres(self.path)
        self._depth = 0  # transactions open (ledger.store.transaction nests as savepoints)
        if not readonly:
            self._check_schema()
        self.db = dbm.connect(self.path)
        # SQLite writers queue on a lock file rather than in SQLite's sleeping busy handler.
        self._write_lock = None if self.postgres else WriteLock(self.path)

    def _check_schema(self) -> None:
        if not self.postgres:
            if not Path(self.path).exists() or dbm.pending(self.path):
                dbm.upgrade(self.path)
            return
        todo = dbm.pending(self.path)
        if todo:
            raise dbm.SchemaError(f"the ledger database needs migrations {', '.join(todo)}: "
                                  "run `ledger db upgrade --db URL` first")

    def close(self) -> None:
        self.db.close()
        if self._write_lock is not None:
            self._write_lock.close()

    @contextmanager
    def transaction(self, pipeline: bool = False) -> Iterator:
        """One transaction. ``pipeline`` (PostgreSQL; ignored on SQLite) sends writes without
        waiting for each answer: a failed write is raised by the next read or ``sync()``.
        Inside another one it is a savepoint of it, so a change and its audit entry
        (ledger.audit) can share the caller's transaction."""
        if self._depth:
            yield from self._savepoint()
            return
        self._depth = 1
        try:
            yield from self._outermost(pipeline)
        finally:
            self._depth = 0

    def _savepoint(self) -> Iterator:
        name = f"nested_{self._depth}"
        self._depth += 1
        self.db.execute(f"SAVEPOINT {name}")
        try:
            yield self.db
        except BaseException:
            self.db.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.db.execute(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self._depth -= 1
        self.db.execute(f"RELEASE SAVEPOINT {name}")

    def _outermost(self, pipeline: bool) -> Iterator:
        queue = self._write_lock.held() if self._write_lock else nullcontext()
        with queue, self.db.pipeline() if pipeline and self.postgres else nullcontext():
            self.db.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def sync(self) -> None:
        """Wait for the writes a pipelined transaction has sent so far; raise their error."""
        if self.postgres:
            self.db.sync()

    # -- members and tokens ------------------------------------------------------------
    def add_member(self, name: str, cards: list[str] = (), member_id: str | None = None,
                   opening_balance: int = 0, tier: str = "member",
                   birth_month: int | None = None, card_keys: list[str] = (),
                   home_store: str | None = None, actor: str | None = None,
                   via: str = "cli") -> str:
        """Create a member with its cards (``cards`` are UIDs; ``card_keys`` token keys made by
        codes.card_numbers), an opening balance and a home store (None: every store's), as one
        transaction (audited as ``actor``'s change when given)."""
        member_id = member_id or new_member_id()
        with self.transaction():
            if self.member(member_id):
                raise LedgerError(f"member {member_id} exists already")
            self.create_member(member_id, name, tier, home_store)
            events.emit(self.db, "member.created", member_id,
                        {"source": "cli", "store": home_store, "tier": tier,
                         "balance": opening_balance, "cards": len(cards) + len(card_keys)})
            if birth_month is not None:
                self.db.execute("UPDATE members SET birth_month=? WHERE member_id=?",
                                (birth_month, member_id))
            for card in cards:
                self.bind_token(member_id, "uid", card)
            for key in card_keys:
                self.bind_key(member_id, key)
            if opening_balance:
                self.journal(member_id, "adjust", opening_balance, reason="opening balance")
            if actor is not None:
                audit.record(self.db, actor, via, "member.add", member_id,
                             {"cards": [*cards, *card_keys], "opening_balance": opening_balance})
        return member_id

    def create_member(self, member_id: str, name: str = "", tier: str = "member",
                      home_store: str | None = None) -> None:
        self.db.execute("INSERT INTO members(member_id, name, tier, created_at, home_store)"
                        " VALUES (?,?,?,?,?)", (member_id, name, tier, now_iso(), home_store))

    def home_stores(self, member_ids: list[str]) -> dict[str, str | None]:
        """Each member's home store (None: served by every store; ledger.policy)."""
        where, values = self.one_of("member_id", member_ids)
        rows = self.db.execute(f"SELECT member_id, home_store FROM members WHERE {where}",
                               values).fetchall()
        return dict(rows)

    def bind_token(self, member_id: str, kind: str, value: str) -> None:
        self.bind_key(member_id, token_key(kind, value))

    def bind_key(self, member_id: str, key: str) -> None:
        owner = self.member_of(key)
        if owner is not None and owner != member_id:
            raise LedgerError(f"{key} belongs to member {owner} already")
        self.db.execute("INSERT INTO tokens VALUES (?,?,?) ON CONFLICT DO NOTHING",
                        (key, member_id, now_iso()))

    def member_of(self, key: str) -> str | None:
        row = self.db.execute("SELECT member_id FROM tokens WHERE token_key=?", (key,)).fetchone()
        return row[0] if row else None

    def member(self, member_id: str) -> MemberRow | None:
        row = self.db.execute(
            "SELECT member_id, name, tier, (SELECT COALESCE(SUM(points), 0) FROM journal j"
            " WHERE j.member_id = m.member_id) FROM members m WHERE member_id=?",
            (member_id,)).fetchone()
        return MemberRow(row[0], row[1], row[2], int(row[3])) if row else None

    def merged_target(self, member_id: str) -> str | None:
        """The member ``member_id`` is now: itself, or the member a merge kept (a duplicate
        stays as a tombstone naming it); None when there is no such member."""
        for _ in range(8):  # a merge never points at a tombstone; the bound guards the loop
            row = self.db.execute("SELECT merged_into FROM members WHERE member_id=?",
                                  (member_id,)).fetchone()
            if row is None or row[0] is None:
                return member_id if row else None
            member_id = row[0]
        return None

    def find(self, who: str) -> MemberRow | None:
        """A member by id (a merged duplicate's id finds the member kept), or by a card UID /
        code value as an operator would type it."""
        target = self.merged_target(who)
        found = self.member(target) if target else None
        if found:
            return found
        for kind in ("uid", "ndef", "qr"):
            member_id = self.member_of(token_key(kind, who))
            if member_id:
                return self.member(member_id)
        return None

    def member_ids(self, after: str = "", limit: int = 200) -> list[str]:
        """The next ``limit`` member ids after ``after``, in order: a sweep in batches."""
        rows = self.db.execute("SELECT member_id FROM members WHERE member_id > ?"
                               " ORDER BY member_id LIMIT ?", (after, limit))
        return [r[0] for r in rows.fetchall()]

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
            "SELECT entry_id, kind, points, op_id, basket_id, store, kiosk, kiosk_seq, reason, at,"
            " operator FROM journal WHERE member_id=? ORDER BY entry_id", (member_id,))
        names = ("entry", "kind", "points", "op_id", "basket_id", "store", "kiosk", "kiosk_seq",
                 "reason", "at", "operator")
        return [dict(zip(names, r, strict=True)) for r in rows]

    def adjust(self, member_id: str, points: int, reason: str, operator: str,
               actor: str | None = None, via: str = "cli") -> int:
        """A manual adjustment with its reason and operator, as one transaction (audited as
        ``actor``'s change); the new balance. An adjustment never takes a balance below zero,
        and needs a reason."""
        if not reason.strip():
            raise LedgerError("an adjustment needs a reason")
        with self.transaction():
            self.lock_member(member_id)
            member = self.member(member_id)
            if member is None:
                raise LedgerError(f"no member {member_id}")
            if member.balance + points < 0:
                raise LedgerError(f"{member_id} has {member.balance} points; taking {-points}"
                                  " would make the balance negative")
            self.db.execute(
                "INSERT INTO journal(member_id, kind, points, reason, at, operator)"
                " VALUES (?,?,?,?,?,?)", (member_id, "adjust", points, reason, now_iso(), operator))
            if actor is not None:
                audit.record(self.db, actor, via, "points.adjust", member_id,
                             {"points": points, "reason": reason, "operator": operator})
            # The reason and operator are free text a person typed: the journal keeps them.
            events.emit(self.db, "points.adjusted", member_id,
                        {"points": points, "balance": member.balance + points})
            return member.balance + points

    # -- applied ops (idempotency) ------------------------------------------------------
    def applied(self, op_id: str) -> dict | None:
        row = self.db.execute("SELECT result FROM ops WHERE op_id=?", (op_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def record_op(self, op_id: str, origin: tuple[str, str, int], result: dict) -> None:
        self.db.execute("INSERT INTO ops VALUES (?,?,?,?,?,?,?)",
                        (op_id, *origin, result["status"], json.dumps(result), now_iso()))

    # -- many at once (the service's group commit, ledger.batch) ---------------------------
    def applied_many(self, op_ids: list[str]) -> dict[str, dict]:
        where, values = self.one_of("op_id", op_ids)
        rows = self.db.execute(f"SELECT op_id, result FROM ops WHERE {where}", values).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    def members_of(self, keys: list[str]) -> dict[str, str]:
        where, values = self.one_of("token_key", keys)
        rows = self.db.execute(f"SELECT token_key, member_id FROM tokens WHERE {where}",
                               values).fetchall()
        return dict(rows)

    def balances_and_tiers(self, member_ids: list[str]) -> dict[str, tuple[int, str]]:
        """Balances and tiers, the members' rows held until commit on PostgreSQL: another
        worker's batch for the same members waits, so the balance each ack reports includes
        everything committed before it (locked in one order, so two batches cannot deadlock).
        Blocked members are left out: their ops take the careful way (ledger.blocks)."""
        if self.postgres and member_ids:
            self.db.execute("SELECT 1 FROM members WHERE member_id = ANY(?) ORDER BY member_id"
                            " FOR UPDATE", [sorted(member_ids)])
        # A separate statement: on PostgreSQL it reads a snapshot taken after the locks.
        where, values = self.one_of("m.member_id", member_ids)
        rows = self.db.execute(
            "SELECT m.member_id, m.tier, (SELECT COALESCE(SUM(points), 0) FROM journal j"
            f" WHERE j.member_id = m.member_id) FROM members m WHERE {where}"
            " AND m.blocked_at IS NULL", values).fetchall()
        return {r[0]: (int(r[2]), r[1]) for r in rows}

    def one_of(self, column: str, values: list) -> tuple[str, list]:
        """``column`` is one of ``values``, as a condition that keeps one statement text for
        every batch: PostgreSQL takes the list as one array parameter (psycopg caches no
        statement with more than 50 parameters, and parsing one costs more than the query);
        SQLite gets an IN list padded to a power of two, so its statement cache hits."""
        if self.postgres:
            return f"{column} = ANY(?)", [list(values)]
        if not values:
            return "0", []
        size = 1 << (len(values) - 1).bit_length()
        return f"{column} IN ({_marks(range(size))})", [*values, *[values[-1]] * (size - len(values))]

    def write_many(self, journal: list[tuple], ops: list[tuple], sales: list[tuple] = (),
                   event_rows: list[tuple] = ()) -> None:
        """Journal rows (member_id, kind, points, op_id, basket_id, store, kiosk, kiosk_seq,
        reason), op rows (op_id, store, kiosk, kiosk_seq, result), sale rows (op_id, store,
        basket_id, member_id, body; ledger.sales) and event rows (ledger.events.row) in a
        statement each."""
        at = now_iso()
        if event_rows:
            self.insert_rows("events", events.COLUMNS, list(event_rows))
        if sales:
            self.insert_rows("sales", ("op_id", "store", "basket_id", "member_id", "body", "at"),
                              [(*row, at) for row in sales])
        if journal:
            self.insert_rows("journal", ("member_id", "kind", "points", "op_id", "basket_id",
                                          "store", "kiosk", "kiosk_seq", "reason", "at"),
                              [(*row, at) for row in journal])
        if ops:
            self.insert_rows("ops", ("op_id", "store", "kiosk", "kiosk_seq", "status", "result",
                                      "applied_at"),
                              [(op_id, store, kiosk, seq, result["status"], json.dumps(result), at)
                               for op_id, store, kiosk, seq, result in ops])

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Many rows at once: SQLite's executemany runs in C; PostgreSQL takes them by COPY, one
        round trip formatted in C, where executemany costs a pipelined statement per row in
        Python. A duplicate op_id fails either way, and the caller's transaction with it."""
        if self.postgres:
            self.db.copy_rows(table, columns, rows)
        else:
            self.db.executemany(f"INSERT INTO {table}({', '.join(columns)})"
                                f" VALUES ({_marks(columns)})", rows)

    def record_refusal(self, op_id: str, member_id: str | None, what: str, reason: str) -> None:
        self.db.execute("INSERT INTO refusals VALUES (?,?,?,?,?)",
                        (op_id, member_id, what, reason, now_iso()))

    def refusals(self) -> list[dict]:
        order = "refusal_no" if self.postgres else "rowid"  # as recorded (migration 0009)
        rows = self.db.execute("SELECT op_id, member_id, what, reason, at FROM refusals"
                               f" ORDER BY {order}")
        return [dict(zip(("op_id", "member_id", "what", "reason", "at"), r, strict=True))
                for r in rows]

    def op_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]

    # -- what the rule engine may ask about a member ------------------------------------
    def lock_member(self, member_id: str) -> None:
        """Hold the member's row until commit, so two PostgreSQL workers cannot both spend the
        same points, and the balance an ack reports includes every op committed before it
        (SQLite's write lock does this already)."""
        if self.postgres:
            self.db.execute("SELECT 1 FROM members WHERE member_id=? FOR UPDATE", (member_id,))

    def set_tier(self, member_id: str, tier: str, since: str | None = None) -> None:
        self.db.execute("UPDATE members SET tier=?, tier_since=? WHERE member_id=?",
                        (tier, since or now_iso(), member_id))

    def set_tier_reviewed(self, member_id: str, at: str) -> None:
        """The member passed the calendar tier review of ``at`` (ISO) in their tier."""
        self.db.execute("UPDATE members SET tier_reviewed=? WHERE member_id=?", (at, member_id))

    def promo_uses(self, member_id: str, day: str) -> dict[str, tuple[int, int]]:
        """promo_id -> (uses on ``day``, uses ever) for the member."""
        rows = self.db.execute(
            "SELECT promo_id, SUM(CASE WHEN day=? THEN count ELSE 0 END), SUM(count)"
            " FROM promo_uses WHERE member_id=? GROUP BY promo_id", (day, member_id)).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def use_promo(self, member_id: str, promo_id: str, day: str) -> None:
        self.db.execute("INSERT INTO promo_uses VALUES (?,?,?,1) ON CONFLICT"
                        " (member_id, promo_id, day) DO UPDATE SET count = promo_uses.count + 1",
                        (member_id, promo_id, day))

    def redemptions(self, reward_ids: list[str], member_id: str) -> dict[str, tuple[int, int]]:
        """reward_id -> (redemptions by everyone, by this member)."""
        if not reward_ids:
            return {}
        rows = self.db.execute(
            "SELECT reason, COUNT(*), SUM(CASE WHEN member_id=? THEN 1 ELSE 0 END) FROM journal"
            f" WHERE kind='redeem' AND reason IN ({_marks(reward_ids)}) GROUP BY reason",
            [member_id, *reward_ids]).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def lock_reward(self, reward_id: str) -> None:
        """Serialise PostgreSQL workers redeeming a reward with a stock, until commit."""
        if self.postgres:
            self.db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"reward:{reward_id}",))

    def birth_month(self, member_id: str) -> int | None:
        row = self.db.execute("SELECT birth_month FROM members WHERE member_id=?",
                              (member_id,)).fetchone()
        return row[0] if row else None

    def tier_dates(self, member_id: str) -> tuple[str, str | None]:
        """When the member reached their tier (their joining time if the tier was given), and
        the last calendar review they passed (None: none yet)."""
        row = self.db.execute("SELECT COALESCE(tier_since, created_at), tier_reviewed FROM members"
                              " WHERE member_id=?", (member_id,)).fetchone()
        return (row[0], row[1]) if row else ("", None)

    def facts(self, member_id: str, day_start: str, window_start: str) -> dict:
        """Sales so far, points earned since ``day_start`` and since ``window_start`` (ISO),
        less what refunds took back since then."""
        row = self.db.execute(
            "SELECT COUNT(CASE WHEN kind='earn' THEN 1 END),"
            " COALESCE(SUM(CASE WHEN at >= ? THEN points END), 0),"
            " COALESCE(SUM(CASE WHEN at >= ? THEN points END), 0)"
            " FROM journal WHERE member_id=? AND kind IN ('earn', 'refund')",  # refunds: net
            (day_start, window_start, member_id)).fetchone()
        return {"visits": int(row[0]), "earned_today": int(row[1]), "window_points": int(row[2])}

    def expirable(self, member_id: str, cutoff: str) -> int:
        """Points earned before ``cutoff`` (ISO) not yet spent or expired, spending oldest
        first: what is older than the cutoff, less everything ever taken off."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(CASE WHEN points > 0 AND at < ? THEN points END), 0),"
            " COALESCE(SUM(CASE WHEN points < 0 THEN -points END), 0)"
            " FROM journal WHERE member_id=?", (cutoff, member_id)).fetchone()
        return max(0, int(row[0]) - int(row[1]))

    def punches(self, member_id: str) -> dict[str, int]:
        rows = self.db.execute("SELECT card_id, count FROM punches WHERE member_id=?",
                               (member_id,)).fetchall()
        return dict(rows)

    def add_punches(self, member_id: str, card_id: str, count: int) -> None:
        self.db.execute("INSERT INTO punches VALUES (?,?,?) ON CONFLICT (member_id, card_id)"
                        " DO UPDATE SET count = punches.count + excluded.count",
                        (member_id, card_id, count))

    # -- program versions ------------------------------------------------------------------
    def save_program(self, version: int, body: dict) -> None:
        with self.transaction():
            self.insert_program(version, body)

    def insert_program(self, version: int, body: dict) -> None:
        """``save_program`` inside the caller's transaction (with its source and audit row)."""
        if self.db.execute("SELECT 1 FROM programs WHERE version=?", (version,)).fetchone():
            raise LedgerError(f"program version {version} is loaded already; "
                              "raise `version` in the file")
        latest = self.db.execute("SELECT MAX(version) FROM programs").fetchone()[0]
        if latest is not None and version < latest:
            raise LedgerError(f"program version {version} is older than the active "
                              f"version {latest}")
        self.db.execute("INSERT INTO programs VALUES (?,?,?)",
                        (version, json.dumps(body), now_iso()))

    def programs(self) -> list[tuple[int, dict, str]]:
        """Every program version loaded: (version, body, loaded_at), oldest first."""
        rows = self.db.execute("SELECT version, body, loaded_at FROM programs ORDER BY version")
        return [(r[0], json.loads(r[1]), r[2]) for r in rows.fetchall()]

    def latest_program_version(self) -> int | None:
        return self.db.execute("SELECT MAX(version) FROM programs").fetchone()[0]


def _marks(values) -> str:
    return ",".join("?" * len(values)) or "NULL"

