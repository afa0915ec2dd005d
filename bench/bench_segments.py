"""Segments at scale: RFM scoring with every segment refreshed (`ledger segments refresh`), one
rule segment's members (`ledger segments members`) and a consent-filtered audience export
(`ledger segments export --consent email`), on SQLite and PostgreSQL; first as the ledger was
before issue 14's work (``_Before``: baskets indexed by member only, a correlated subquery per
criterion and member, a bisection per member and score), then as it is, in the same run, with
the two runs' segments compared. And what migration 0029's wider index costs the sale path:
ops applied per second in-process, with it and with ``baskets_member`` back.

100,000 members and 2 million baskets over two years (bench.bench_reports' generator); a
million journal entries for the balances an export carries (the issue's 5 million would only
lengthen the load: an export reads a member's entries by the member index). Half the members
have an email address, a third of them gave email consent. Best of two runs, seconds.

    .venv/bin/python -m bench.bench_segments --scale 0.1
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import bench_ledger
from bench import bench_reports as data
from bench.common import machine
from ledger import rfm, segment_book, segment_export
from ledger import segments as rules
from ledger.store import LedgerStore

FULL = {"members": 100_000, "journal": 1_000_000, "baskets": 2_000_000}
NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)  # the generated baskets end here
RULE = {"id": "lapsed-big", "name": "Big spenders we miss",
        "all": [{"last_purchase_days": {"min": 60}}, {"amount": {"min": 20000, "days": 365}}]}


def profiles(store: LedgerStore, people: int) -> None:
    """Email for half the members, email consent given by a third of those."""
    rnd, at = random.Random(4), "2026-01-01T00:00:00.000+00:00"
    emails = [(f"m-{i:07d}", f"m{i}@example.org", at) for i in range(0, people, 2)]
    consents = [(m, "email", 1, "bench", "v1", at) for m, _, _ in emails if rnd.random() < 1 / 3]
    with store.transaction():
        store.insert_rows("member_profiles", ("member_id", "email", "updated_at"), emails)
        store.insert_rows("consents", ("member_id", "channel", "given", "source", "wording",
                                       "at"), consents)


OLD_INDEX = ("DROP INDEX baskets_member_at", "CREATE INDEX baskets_member ON baskets(member_id)")
NEW_INDEX = ("DROP INDEX baskets_member",
             "CREATE INDEX baskets_member_at ON baskets(member_id, at, total_minor)")


def index(store: LedgerStore, statements: tuple[str, ...]) -> None:
    with store.transaction():
        for sql in statements:
            store.db.execute(sql)
    store.db.execute("ANALYZE baskets")


class _Before:
    """The ledger as it was before migration 0029 and issue 14's SQL, for the same run's
    comparison: ``baskets_member`` for the index, the correlated subqueries (SQLite's way,
    ledger.segments.Aggregates) on PostgreSQL too, and RFM's bisection per member and score."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def __enter__(self) -> LedgerStore:
        self.saved = rules.Aggregates, rfm.quintiles
        rules.Aggregates = lambda joined: self.saved[0](joined=False)
        rfm.quintiles = _bisected
        index(self.store, OLD_INDEX)
        return self.store

    def __exit__(self, *exc) -> None:
        rules.Aggregates, rfm.quintiles = self.saved
        index(self.store, NEW_INDEX)


def _bisected(values: list) -> dict:
    ordered = sorted(values)
    return {v: rfm.quintile(v, ordered) for v in values}


def best(fn) -> tuple[float, object]:
    """The better of two runs of ``fn(run)`` and the last one's result."""
    times, out = [], None
    for n in range(2):
        t0 = time.perf_counter()
        out = fn(n)
        times.append(time.perf_counter() - t0)
    return min(times), out


def write_held(store: LedgerStore, refresh) -> tuple[float, float]:
    """(seconds of ``refresh()``, seconds its outermost write transaction was open): on SQLite
    every worker's sales wait for that one."""
    spans: list[float] = []
    real = store.transaction

    @contextmanager
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        with real(*args, **kwargs) as db:
            yield db
        spans.append(time.perf_counter() - t0)

    store.transaction = timed  # this store only, for this call
    try:
        t0 = time.perf_counter()
        refresh()
        total = time.perf_counter() - t0
    finally:
        del store.transaction
    return total, max(spans)


def timings(store: LedgerStore, first: int) -> tuple[list[tuple[str, str]], tuple]:
    """The four timings' rows, and what they found (compared between the two ledgers); the
    refreshes are at NOW plus ``first`` and ``first + 1`` seconds (a refresh has its time)."""
    secs, changes = best(lambda n: segment_book.refresh(store, NOW + dt.timedelta(seconds=first + n)))
    sizes = ", ".join(f"{s} {n:,}" for s, n in sorted(changes.sizes.items()))
    rows = [("RFM scores + every segment refreshed", f"{secs:.2f} ({sizes})")]
    total, held = write_held(store, lambda: segment_book.refresh(
        store, NOW + dt.timedelta(seconds=first + 2)))
    rows.append(("of a refresh, the write transaction (on SQLite the sales wait for it)",
                 f"{held:.2f} of {total:.2f}"))
    secs, found = best(lambda n: segment_book.members(store, RULE["id"], NOW))
    rows.append((f"rule segment members ({RULE['id']}: {len(found):,})", f"{secs:.2f}"))
    exported = []
    for segment in ("champions", RULE["id"]):
        def export(n: int, segment: str = segment) -> str:
            out = io.StringIO()
            segment_export.write(segment_export.rows(store, segment, "email"), "csv", out)
            return out.getvalue()
        secs, text = best(export)
        exported.append(text)
        rows.append((f"audience export {segment}, email consent ({text.count(chr(10)) - 1:,}"
                     " rows)", f"{secs:.2f}"))
    scores = store.db.execute("SELECT member_id, r, f, m, segment FROM rfm_scores"
                              " ORDER BY member_id").fetchall()
    return rows, (changes.sizes, [tuple(r) for r in scores], found, exported)


def measure(db: str, scale: float) -> list[tuple[str, str]]:
    store = LedgerStore(db)
    data.FULL.update({k: v for k, v in FULL.items()})  # the generator reads its sizes there
    took = data.fill(store, scale)
    profiles(store, max(1, int(FULL["members"] * scale)))
    segment_book.add(store, RULE)
    rows = [("load", ", ".join(f"{t} {v:.0f} s" for t, v in took.items()))]
    with _Before(store):
        before, old = timings(store, 0)
    after, new = timings(store, 2)
    rows += [(f"before: {what}", secs) for what, secs in before]
    rows += [(f"after: {what}", secs) for what, secs in after]
    rows.append(("after: the same RFM scores, segments, members and export rows as before",
                 "yes" if new == old else "NO"))
    store.close()
    return rows


def sale_path(new_db) -> list[tuple[str, str]]:
    """ops/s applying sales in-process (bench.bench_ledger.apply_only) with migration 0029's
    index and with ``baskets_member`` back, alternating, three runs each: the median."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(3):
        for wide in (True, False):
            db = new_db()
            if not wide:
                store = LedgerStore(db)
                index(store, OLD_INDEX)
                store.close()
            rates[wide].append(bench_ledger.N / bench_ledger.apply_only(db))
    wide, narrow = (sorted(rates[k])[1] for k in (True, False))
    return [(f"sale path: {bench_ledger.N:,} sale ops applied in-process, ops/s",
             f"{wide:,.0f} with baskets_member_at, {narrow:,.0f} with baskets_member"
             f" ({wide / narrow:.2f})")]


def run(scale: float, only: str = "") -> str:
    from simulation.local_postgres import LocalPostgres, pg_bin

    size = ", ".join(f"{int(v * scale):,} {k}" for k, v in FULL.items())
    out = ["## Segments (`ledger segments`)", "",
           f"`.venv/bin/python -m bench.bench_segments --scale {scale}` on {machine()}: {size}"
           f" ({scale:g} of this benchmark's size), two years. Best of two runs, seconds; before:"
           " the ledger's indexes and SQL before migration 0029, in the same run.", "",
           "| database | what | seconds |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        if only in ("", "sqlite"):
            counter = iter(range(100))
            for what, secs in [*measure(str(Path(tmp) / "ledger.db"), scale),
                               *sale_path(lambda: str(Path(tmp) / f"sales-{next(counter)}.db"))]:
                out.append(f"| SQLite | {what} | {secs} |")
        if only in ("", "postgresql") and pg_bin() is not None:
            cluster = LocalPostgres(fsync=False).start()
            try:
                url = cluster.database()
                from ledger import db as dbm

                dbm.upgrade(url)

                def new_pg() -> str:
                    fresh = cluster.database()
                    dbm.upgrade(fresh)
                    return fresh

                for what, secs in [*measure(url, scale), *sale_path(new_pg)]:
                    out.append(f"| PostgreSQL | {what} | {secs} |")
            finally:
                cluster.stop()
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the size above")
    ap.add_argument("--only", choices=("sqlite", "postgresql"), default="")
    args = ap.parse_args()
    print(run(args.scale, args.only))


if __name__ == "__main__":
    main()
