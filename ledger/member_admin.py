"""Staff's changes to a member as a whole: block, unblock, and merge a duplicate into the member
kept. Each is one transaction with its audit row and its event (ledger.audit, ledger.events);
what a block does at the counter is ledger.blocks'.

A merge moves everything the duplicate has (journal, cards, baskets and sales, refusals,
reservations, consents, labels, notes, punches, promotion uses) to the member kept, so the
kept member's balance is the sum of both and every report figure stays as it was. The
duplicate's row stays as a tombstone (``merged_into``), with no personal data: a late op or
lookup naming it, or its member QR code, lands on the member kept (store.merged_target).
"""

from __future__ import annotations

import logging

from ledger import audit, events
from ledger.store import LedgerError, LedgerStore, now_iso

log = logging.getLogger(__name__)

MERGED = "merged"
REASON_CHARS = 200
# Tables whose rows simply change hands in a merge (member_id, nothing keyed on it).
MOVED = ("journal", "tokens", "blocked_cards", "sales", "baskets", "refusals", "reservations",
         "consents", "member_notes")
# Keyed on (member_id, ...): the kept member's count and the duplicate's are added up.
COUNTED = {"punches": ("card_id",), "promo_uses": ("promo_id", "day")}
PROFILE = ("email", "phone", "birth_date", "language")


def check_reason(text: str) -> str:
    """A reason as staff type it: 1-200 printable characters (ValueError naming the rule)."""
    text = (text or "").strip()
    if not text or len(text) > REASON_CHARS or not text.isprintable():
        raise ValueError(f"a reason must be 1 to {REASON_CHARS} printable characters")
    return text


def _live(store: LedgerStore, member_id: str) -> tuple[str | None, str | None]:
    """(blocked_at, forgotten_at) of a member that exists and is no tombstone."""
    row = store.db.execute(
        "SELECT m.merged_into, m.blocked_at, p.forgotten_at FROM members m LEFT JOIN"
        " member_profiles p ON p.member_id = m.member_id WHERE m.member_id=?",
        (member_id,)).fetchone()
    if row is None:
        raise LedgerError(f"no member {member_id}")
    if row[0] is not None:
        raise LedgerError(f"member {member_id} was merged into {row[0]}")
    return row[1], row[2]


def block(store: LedgerStore, member_id: str, reason: str, actor: str, via: str) -> str:
    """Block the member from now on; the time of the block (ledger.blocks says what it does)."""
    reason = check_reason(reason)
    with store.transaction():
        store.lock_member(member_id)
        blocked_at, _ = _live(store, member_id)
        if blocked_at is not None:
            raise LedgerError(f"member {member_id} is blocked already (since {blocked_at[:10]})")
        at = now_iso()
        store.db.execute("UPDATE members SET blocked_at=?, blocked_reason=? WHERE member_id=?",
                         (at, reason, member_id))
        audit.record(store.db, actor, via, "member.block", member_id, {"reason": reason})
        events.emit(store.db, "member.updated", member_id, {"blocked": True, "blocked_at": at})
    log.info("member %s blocked", member_id)
    return at


def unblock(store: LedgerStore, member_id: str, reason: str, actor: str, via: str) -> None:
    reason = check_reason(reason)
    with store.transaction():
        store.lock_member(member_id)
        blocked_at, _ = _live(store, member_id)
        if blocked_at is None:
            raise LedgerError(f"member {member_id} is not blocked")
        store.db.execute("UPDATE members SET blocked_at=NULL, blocked_reason=NULL"
                         " WHERE member_id=?", (member_id,))
        audit.record(store.db, actor, via, "member.unblock", member_id,
                     {"reason": reason, "blocked_since": blocked_at})
        events.emit(store.db, "member.updated", member_id, {"blocked": False})
    log.info("member %s unblocked", member_id)


def blocked(store: LedgerStore, member_id: str) -> tuple[str, str] | None:
    """(since, reason) when the member is blocked."""
    row = store.db.execute("SELECT blocked_at, blocked_reason FROM members WHERE member_id=?",
                           (member_id,)).fetchone()
    return (row[0], row[1]) if row and row[0] else None


def merge(store: LedgerStore, keep: str, duplicate: str, reason: str, actor: str,
          via: str) -> int:
    """Merge ``duplicate`` into ``keep``; the kept member's balance afterwards."""
    reason = check_reason(reason)
    if keep == duplicate:
        raise LedgerError(f"cannot merge member {keep} into itself")
    with store.transaction():
        for member_id in sorted((keep, duplicate)):  # one order: two merges cannot deadlock
            store.lock_member(member_id)
        for member_id in (keep, duplicate):
            blocked_at, forgotten_at = _live(store, member_id)
            if forgotten_at is not None:
                raise LedgerError(f"member {member_id} was forgotten; nothing to merge")
            if blocked_at is not None:  # its cards would work again on the member kept
                raise LedgerError(f"member {member_id} is blocked; unblock it first")
        moved = store.balance(duplicate)
        _move_rows(store, keep, duplicate)
        _merge_profile(store, keep, duplicate)
        store.db.execute("UPDATE members SET merged_into=?, name=?, birth_month=NULL"
                         " WHERE member_id=?",
                         (keep, MERGED, duplicate))
        detail = {"duplicate": duplicate, "points_moved": moved, "reason": reason}
        audit.record(store.db, actor, via, "member.merge", keep, detail)
        events.emit(store.db, "member.updated", keep, {"merged_from": duplicate,
                                                       "points_moved": moved})
        events.emit(store.db, "member.updated", duplicate, {"merged_into": keep})
        balance = store.balance(keep)
    log.info("member %s merged into %s (%d points moved)", duplicate, keep, moved)
    return balance


def _move_rows(store: LedgerStore, keep: str, duplicate: str) -> None:
    db = store.db
    for table in MOVED:  # table names are ours, never input
        db.execute(f"UPDATE {table} SET member_id=? WHERE member_id=?", (keep, duplicate))
    for table, key in COUNTED.items():
        cols = ", ".join(key)
        db.execute(f"INSERT INTO {table} (member_id, {cols}, count) SELECT ?, {cols}, count"
                   f" FROM {table} WHERE member_id=? ON CONFLICT (member_id, {cols})"
                   f" DO UPDATE SET count = {table}.count + excluded.count", (keep, duplicate))
        db.execute(f"DELETE FROM {table} WHERE member_id=?", (duplicate,))
    db.execute("INSERT INTO member_labels (member_id, label, added_at) SELECT ?, label, added_at"
               " FROM member_labels WHERE member_id=? ON CONFLICT DO NOTHING", (keep, duplicate))
    # Derived tables: the next refresh counts the kept member with the duplicate's history.
    for table in ("member_labels", "segment_members", "rfm_scores"):
        db.execute(f"DELETE FROM {table} WHERE member_id=?", (duplicate,))


def _merge_profile(store: LedgerStore, keep: str, duplicate: str) -> None:
    """The kept member's contact fields, each filled from the duplicate's where it had none."""
    db = store.db
    row = db.execute(f"SELECT {', '.join(PROFILE)} FROM member_profiles WHERE member_id=?",
                     (duplicate,)).fetchone()
    if row is not None:
        now = now_iso()
        db.execute("INSERT INTO member_profiles (member_id, updated_at) VALUES (?, ?)"
                   " ON CONFLICT (member_id) DO NOTHING", (keep, now))
        sets = ", ".join(f"{c} = COALESCE({c}, ?)" for c in PROFILE)
        db.execute(f"UPDATE member_profiles SET {sets}, updated_at=? WHERE member_id=?",
                   (*row, now, keep))
        db.execute("DELETE FROM member_profiles WHERE member_id=?", (duplicate,))
    db.execute("UPDATE members SET name = CASE WHEN name = '' THEN (SELECT name FROM members"
               " WHERE member_id=?) ELSE name END, birth_month = COALESCE(birth_month,"
               " (SELECT birth_month FROM members WHERE member_id=?)) WHERE member_id=?",
               (duplicate, duplicate, keep))
