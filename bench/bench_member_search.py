"""Member search at the issue's size: 100,000 members with profiles and cards on PostgreSQL, the
searches staff type (part of a name, a two-letter prefix, part of an email, a phone, a card
number, an id, text that finds nothing), each timed one at a time, in the same run: as shipped
(the trigram indexes of migration 0025, read index first), with the planner left to choose
(it scans the table for a common name part), and with the trigram indexes dropped.

Single-user latency of the query itself; the back office's load test (50 users through HTTP)
is the web app's benchmark.

    .venv/bin/python -m bench.bench_member_search --members 100000
"""

from __future__ import annotations

import argparse
import random
import time

from bench.common import machine, median, pct
from ledger import db as dbm
from ledger import member_search
from ledger.member_search import search
from ledger.store import LedgerStore

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine",
         "Niklaus", "Margaret", "Dennis", "Radia", "Tim", "Sophie", "Leslie", "Hedy", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
        "Johnson", "Wirth", "Hamilton", "Ritchie", "Perlman", "Berners", "Wilson", "Lamport"]
QUERIES = {
    "name part": "ovelac",
    "name prefix (2)": "ad",
    "email part": "0000042@exa",
    "phone": "030 555 1235",
    "card number": "MEMBER-042424",
    "member id": "m-0000042424",
    "nothing found": "' OR 1=1 --",
}
TRIGRAM_INDEXES = ("members_name_trgm", "member_profiles_email_trgm", "member_profiles_phone_trgm")
ROUNDS = 30


def fill(store: LedgerStore, n: int) -> None:
    rnd = random.Random(7)
    at = "2026-01-01T00:00:00.000Z"
    members, profiles, tokens = [], [], []
    for i in range(n):
        member_id = f"m-{i:010d}"
        name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}{'' if i % 3 else ' ' + str(i)}"
        members.append((member_id, name, "member", at))
        phone = f"+4930{5550000 + i:07d}" if i % 2 else None
        profiles.append((member_id, f"{member_id}@example.org", phone, at))
        tokens.append((f"ndef:MEMBER-{i:06d}", member_id, at))
    with store.transaction():
        store.insert_rows("members", ("member_id", "name", "tier", "created_at"), members)
        store.insert_rows("member_profiles", ("member_id", "email", "phone", "updated_at"),
                          profiles)
        store.insert_rows("tokens", ("token_key", "member_id", "added_at"), tokens)
    store.db.execute("ANALYZE")


def timings(store: LedgerStore) -> dict[str, tuple[float, float, int]]:
    """Per query: (p50 ms, p95 ms, hits on the first page)."""
    out = {}
    for label, text in QUERIES.items():
        samples, hits = [], 0
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            hits = len(search(store, text).hits)
            samples.append((time.perf_counter() - t0) * 1000)
        out[label] = (median(samples), pct(samples, 95), hits)
    return out


def _planners_choice(store: LedgerStore, sql: str, params: tuple, index_first: bool) -> list[tuple]:
    return store.db.execute(sql, params).fetchall()


def main() -> int:
    from simulation.local_postgres import LocalPostgres

    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    args = ap.parse_args()
    cluster = LocalPostgres(fsync=False).start()
    try:
        url = cluster.database()
        dbm.upgrade(url)
        store = LedgerStore(url)
        fill(store, args.members)
        timings(store)  # warm the caches
        shipped = timings(store)
        member_search._rows = _planners_choice
        planned = timings(store)
        for name in TRIGRAM_INDEXES:
            store.db.execute(f"DROP INDEX {name}")
        store.db.execute("ANALYZE")
        scans = timings(store)
        store.close()
    finally:
        cluster.stop()
    print(f"## Member search\n\n`.venv/bin/python -m bench.bench_member_search --members"
          f" {args.members}` on {machine()}: PostgreSQL 15, {args.members:,} members with"
          " profiles and a card each, one search at a time, 20 results a page,"
          f" {ROUNDS} rounds each; p50 / p95 in ms. Shipped: the trigram indexes of migration"
          " 0025, read index first (ledger/member_search.py). Planner: the same indexes, the"
          " planner left to choose. No trigram: those indexes dropped, the planner's choice.\n")
    print("| search | hits | shipped | planner | no trigram |")
    print("|---|---:|---:|---:|---:|")
    for label, (*_, hits) in shipped.items():
        cells = [f"{a:.1f} / {b:.1f}" for a, b, _ in (shipped[label], planned[label],
                                                         scans[label])]
        print(f"| {label} (`{QUERIES[label]}`) | {hits} | {' | '.join(cells)} |")
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
