"""The journal's per-day sums (migration 0026, ledger.journal_days) against the entries
themselves, on SQLite and PostgreSQL: every way the ledger writes the journal (one entry, a
manual adjustment, a batch's many rows, two PostgreSQL connections at once) adds to them,
and a ledger upgraded with entries already written starts from their sums."""

import datetime as dt
import random
from pathlib import Path

from ledger import journal_days
from ledger.report_scope import Period
from ledger.store import LedgerStore

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("earn", "redeem", "expire", "bonus", "refund", "adjust")


def by_entries(store: LedgerStore) -> dict:
    """(day, kind, reward, adds) -> (entries, points), summed over the journal itself."""
    rows = store.db.execute("SELECT at, kind, reason, points FROM journal").fetchall()
    found: dict = {}
    for at, kind, reason, points in rows:
        key = (at[:10], kind, reason if kind == "redeem" else "", int(points > 0))
        entries, total = found.get(key, (0, 0))
        found[key] = (entries + 1, total + points)
    return found


def by_days(store: LedgerStore) -> dict:
    rows = store.db.execute("SELECT day, kind, reason, positive, SUM(entries), SUM(points)"
                            " FROM journal_days GROUP BY day, kind, reason, positive").fetchall()
    return {(d, k, r, int(p)): (int(n), int(s)) for d, k, r, p, n, s in rows}


def entry(rnd: random.Random, member: str) -> tuple:
    kind = rnd.choice(KINDS)
    points = rnd.randint(1, 90) * (1 if kind in ("earn", "bonus") else rnd.choice((1, -1)))
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rnd.randrange(90_000))
    return (member, kind, points, None, None, "store-1", "kiosk-1", 1,
            rnd.choice(("coffee", "cake")), at.isoformat(timespec="milliseconds"))


def test_every_way_of_writing_the_journal_adds_to_the_day_sums(ledger_db):
    store = LedgerStore(ledger_db)
    store.add_member("Ada", ["card:A1"], "ada", opening_balance=500)
    rnd = random.Random(7)
    with store.transaction():
        store.journal("ada", "earn", 12, origin=("store-1", "kiosk-1", 3))
    store.adjust("ada", -40, "goodwill", "owner")
    with store.transaction():  # a batch: one statement of many rows (COPY on PostgreSQL)
        store.insert_rows("journal", ("member_id", "kind", "points", "op_id", "basket_id",
                                      "store", "kiosk", "kiosk_seq", "reason", "at"),
                          [entry(rnd, "ada") for _ in range(400)])
    if store.postgres:  # another connection (another worker) writes to its own shard
        other = LedgerStore(ledger_db)
        with other.transaction():
            other.journal("ada", "redeem", -100, reason="coffee")
        other.close()
    assert by_days(store) == by_entries(store)
    month = Period(dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    issued = store.db.execute(
        "SELECT SUM(points) FROM journal WHERE points > 0 AND kind IN ('earn', 'bonus',"
        " 'adjust') AND at >= ? AND at < ?", [month.start_iso, month.end_iso]).fetchone()[0]
    assert int(journal_days.sums(store, month)[0]) == int(issued)
    assert int(journal_days.outstanding(store, month)) == int(
        store.db.execute("SELECT SUM(points) FROM journal WHERE at < ?",
                         [month.end_iso]).fetchone()[0])
    store.close()


def test_an_upgrade_sums_the_entries_already_written(tmp_path):
    from yoyo import get_backend, read_migrations

    from ledger import db as dbm

    path = str(tmp_path / "old.db")
    backend = get_backend(dbm.yoyo_uri(path))
    migrations = read_migrations(str(ROOT / "ledger" / "migrations"))
    with backend.lock():
        backend.apply_migrations(
            backend.to_apply(migrations.filter(lambda m: m.id != "0026.journal_days")))
    conn = backend.connection
    conn.execute("INSERT INTO members(member_id, name, created_at) VALUES ('ada', 'Ada', 'x')")
    rnd = random.Random(3)
    conn.executemany("INSERT INTO journal(member_id, kind, points, op_id, basket_id, store,"
                     " kiosk, kiosk_seq, reason, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     [entry(rnd, "ada") for _ in range(200)])
    conn.commit()
    store = LedgerStore(path)  # opening it applies 0026
    assert by_days(store) == by_entries(store) and len(by_entries(store)) > 50
    store.close()
