"""`ledger report` at scale: how long a month's and a year's report take on SQLite and PostgreSQL,
and the same SQL run by DuckDB attached to the same databases (its sqlite and postgres scanners).

The issue's size is 100,000 members, 5 million journal entries and 2 million baskets over two
years; ``--scale`` takes a fraction of it (this 2-core machine, shared, needs minutes per
million rows). Rows are generated seeded and bulk inserted (LedgerStore.insert_rows: executemany
on SQLite, COPY on PostgreSQL), not applied op by op. Each report is timed twice; the better time
is given (the first warms the caches both engines read through).

    .venv/bin/python -m bench.bench_reports --scale 0.1
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import re
import tempfile
import time
import types
from collections.abc import Iterator
from pathlib import Path

from bench.common import machine
from ledger import journal_days, kpi_series, report
from ledger.facts import BASKET_COLUMNS
from ledger.report_scope import Period, Scope
from ledger.store import LedgerStore

FULL = {"members": 100_000, "journal": 5_000_000, "baskets": 2_000_000}
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SPAN_S = 730 * 86400
STORES = [f"store-{n}" for n in range(1, 11)]
JOURNAL = (
    "member_id",
    "kind",
    "points",
    "op_id",
    "basket_id",
    "store",
    "kiosk",
    "kiosk_seq",
    "reason",
    "at",
)
CHUNK = 50_000
MONTH = Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1))
YEAR = Period(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
PROGRAM = {
    "version": 1,
    "name": "Bench",
    "currency": "EUR",
    "point_value_minor": 1,
    "earning": {"expire_after_days": 365},
    "tiers": [{"id": "silver", "min_points": 500}, {"id": "gold", "min_points": 2000}],
    "promotions": [
        {"id": "june", "name": "June", "multiplier": 2, "from": "2026-06-10", "until": "2026-06-20"}
    ],
}


def _at(rnd: random.Random) -> str:
    when = START + dt.timedelta(seconds=rnd.randrange(SPAN_S))
    return when.isoformat(timespec="milliseconds")


def members(n: int, rnd: random.Random) -> Iterator[list[tuple]]:
    rows = []
    for i in range(n):
        joined = _at(rnd)
        tier = rnd.choices(("member", "silver", "gold"), (80, 15, 5))[0]
        rows.append((f"m-{i:07d}", "", tier, joined, None if tier == "member" else joined))
        if len(rows) == CHUNK:
            yield rows
            rows = []
    yield rows


def in_time_order(n: int, rnd: random.Random) -> list[str]:
    """``n`` moments of the two years, earliest first: the ledger writes baskets and journal
    entries as they happen, so a table's rows lie in time order on disk (a month's rows are
    neighbours), as they do in a real ledger; random order would scatter them."""
    return sorted(_at(rnd) for _ in range(n))


def baskets(n: int, people: int, rnd: random.Random) -> Iterator[list[tuple]]:
    rows = []
    for i, at in enumerate(in_time_order(n, rnd)):
        store, lane = rnd.choice(STORES), rnd.choice(("lane-1", "lane-2"))
        member = f"m-{rnd.randrange(people):07d}" if rnd.random() < 0.7 else None
        rows.append(
            (
                f"op-{i:08d}",
                store,
                lane,
                f"{store}-{lane}",
                f"b-{i}",
                at,
                at,
                1,
                "EUR",
                rnd.randint(100, 9000),
                0,
                member,
                at,
            )
        )
        if len(rows) == CHUNK:
            yield rows
            rows = []
    yield rows


def journal(n: int, people: int, rnd: random.Random) -> Iterator[list[tuple]]:
    rows = []
    for i, at in enumerate(in_time_order(n, rnd)):
        kind = rnd.choices(("earn", "redeem", "expire", "bonus", "refund"), (70, 18, 5, 5, 2))[0]
        points = rnd.randint(1, 90) * (1 if kind in ("earn", "bonus") else -1)
        store = rnd.choice(STORES)
        rows.append(
            (
                f"m-{rnd.randrange(people):07d}",
                kind,
                points,
                f"j-{i}",
                None,
                store,
                f"{store}-lane-1",
                i,
                "coffee" if kind == "redeem" else "",
                at,
            )
        )
        if len(rows) == CHUNK:
            yield rows
            rows = []
    yield rows


def fill(store: LedgerStore, scale: float) -> dict[str, float]:
    """Generate and insert the data set; seconds per table."""
    size = {k: max(1, int(v * scale)) for k, v in FULL.items()}
    store.save_program(1, PROGRAM)
    took = {}
    tables = (
        (
            "members",
            ("member_id", "name", "tier", "created_at", "tier_since"),
            members(size["members"], random.Random(1)),
        ),
        ("baskets", BASKET_COLUMNS, baskets(size["baskets"], size["members"], random.Random(2))),
        ("journal", JOURNAL, journal(size["journal"], size["members"], random.Random(3))),
    )
    for table, columns, chunks in tables:
        t0 = time.perf_counter()
        for rows in chunks:
            if rows:
                with store.transaction():
                    store.insert_rows(table, columns, rows)
        took[table] = time.perf_counter() - t0
    store.db.execute("ANALYZE")
    return took


def timed(target, period: Period, scope: Scope, s) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        report.build(target, period, scope, s)
        best = min(best, time.perf_counter() - t0)
    return best


def duck(db: str, postgres: bool):
    """A DuckDB connection that reads the ledger's tables through its scanner, for the same SQL
    (``?`` placeholders, standard SQL) the ledger runs."""
    import duckdb

    name = "postgres_scanner" if postgres else "sqlite_scanner"
    package = __import__(f"duckdb_extension_{name}")
    path = next(Path(package.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    conn = duckdb.connect()
    conn.execute(f"LOAD '{path}'")
    kind = "postgres" if postgres else "sqlite"
    target = db if postgres else str(Path(db).resolve())
    conn.execute(f"ATTACH '{target}' AS ledger (TYPE {kind}, READ_ONLY)")
    conn.execute("USE ledger")
    return types.SimpleNamespace(db=_Quoted(conn))


class _Quoted:
    """DuckDB reads ``at`` as a keyword (AT TIME ZONE): the same SQL with the column quoted."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params=()):
        return self.conn.execute(re.sub(r"\bat\b", '"at"', sql), list(params))


CASES = (
    ("month", MONTH, Scope()),
    ("month, one store", MONTH, Scope("store-3")),
    ("year", YEAR, Scope()),
)


class _Entries:
    """The ledger's SQL as it was before the journal's day sums (migration 0026): the whole
    ledger's points, redemptions and trend summed over the journal's entries, for the same
    run's comparison. The day sums' readers are swapped for the entries' own queries."""

    def __init__(self, store: LedgerStore) -> None:
        self.db, self.store = store.db, store

    def __enter__(self):
        self.saved = {n: getattr(journal_days, n) for n in ("sums", "outstanding",
                                                          "redemptions", "trend")}
        journal_days.sums = lambda ledger, p: ledger.db.execute(
            f"SELECT {_ENTRY_ISSUED}, {journal_days.REDEEMED},"
            " SUM(CASE WHEN kind = 'expire' THEN -points END),"
            " SUM(CASE WHEN kind = 'refund' THEN -points END), SUM(points)"
            " FROM journal WHERE at >= ? AND at < ?", [p.start_iso, p.end_iso]).fetchone()
        journal_days.outstanding = lambda ledger, p: ledger.db.execute(
            "SELECT SUM(points) FROM journal WHERE at < ?", [p.end_iso]).fetchone()[0]
        journal_days.redemptions = lambda ledger, p: ledger.db.execute(
            "SELECT reason, COUNT(*), SUM(-points) FROM journal WHERE kind = 'redeem'"
            " AND at >= ? AND at < ? GROUP BY reason ORDER BY COUNT(*) DESC, reason",
            [p.start_iso, p.end_iso]).fetchall()
        journal_days.trend = lambda ledger, p, width: ledger.db.execute(
            f"SELECT substr(at, 1, {width}), {_ENTRY_ISSUED}, {journal_days.REDEEMED}"
            " FROM journal WHERE at >= ? AND at < ? GROUP BY 1", [p.start_iso, p.end_iso]
        ).fetchall()
        return self.store

    def __exit__(self, *exc) -> None:
        for name, fn in self.saved.items():
            setattr(journal_days, name, fn)


class _Before0030:
    """Baskets indexed as before migrations 0029 and 0030 (``at`` and ``member_id`` alone, not
    the two-column indexes) and the cohorts' query of then (the year's baskets of recent
    members, joined to members twice), for the same run's comparison. Swapped in and out on the
    same database: the old indexes built, the new dropped, and back."""

    OLD = ("CREATE INDEX baskets_at ON baskets(at)",
           "CREATE INDEX baskets_member ON baskets(member_id)",
           "DROP INDEX baskets_at_member", "DROP INDEX baskets_member_at")
    NEW = ("CREATE INDEX baskets_at_member ON baskets(at, member_id)",
           "CREATE INDEX baskets_member_at ON baskets(member_id, at, total_minor)",
           "DROP INDEX baskets_at", "DROP INDEX baskets_member")

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def _indexes(self, statements) -> None:
        with self.store.transaction():
            for sql in statements:
                self.store.db.execute(sql)
        self.store.db.execute("ANALYZE baskets")

    def __enter__(self):
        self._indexes(self.OLD)
        self.saved = kpi_series.cohorts
        kpi_series.cohorts = _cohorts_before_0030
        return self.store

    def __exit__(self, *exc) -> None:
        kpi_series.cohorts = self.saved
        self._indexes(self.NEW)


def _cohorts_before_0030(ledger: LedgerStore, period: Period, scope: Scope) -> list[dict]:
    """ledger.kpi_series.cohorts as it was before 0030, verbatim (same figures)."""
    last = kpi_series._month(period.end - dt.timedelta(days=1))
    first = last - kpi_series.COHORT_MONTHS + 1
    since = kpi_series.day_iso(dt.date(first // 12, first % 12 + 1, 1))
    base, base_values = scope.member_base(period.end_iso)
    sizes = dict(
        ledger.db.execute(
            f"SELECT substr(created_at, 1, 7), COUNT(*) FROM members WHERE member_id IN ({base})"
            " AND created_at >= ? GROUP BY 1",
            [*base_values, since],
        ).fetchall()
    )
    where, values = scope.baskets("b")
    # Each member's months first (a hash aggregate), then counted: COUNT(DISTINCT) sorts.
    seen = {
        (c, v): kpi_series._int(n)
        for c, v, n in ledger.db.execute(
            "SELECT substr(m.created_at, 1, 7), v.month, COUNT(*) FROM (SELECT DISTINCT"
            " b.member_id, substr(b.at, 1, 7) AS month FROM baskets b WHERE b.at >= ?"
            " AND b.at < ? AND b.member_id IN (SELECT member_id FROM members WHERE"
            f" created_at >= ?) AND {where}) v JOIN members m ON m.member_id = v.member_id"
            f" WHERE m.member_id IN ({base}) GROUP BY 1, 2",
            [since, period.end_iso, since, *values, *base_values],
        ).fetchall()
    }
    found = []
    for month in range(first, last + 1):
        key, size = kpi_series._month_key(month), kpi_series._int(sizes.get(kpi_series._month_key(month)))
        if size:
            found.append(
                {
                    "cohort": key,
                    "members": size,
                    "retention": [
                        round(seen.get((key, kpi_series._month_key(m)), 0) / size, 4)
                        for m in range(month, last + 1)
                    ],
                }
            )
    return found


class _OneConnection:
    """report.build with every query on the caller's connection, one after the other (no
    second connection for the cohorts): the same run's measure of what the second one saves."""

    def __enter__(self):
        self.saved = report._second_view
        report._second_view = _no_second_view
        return self

    def __exit__(self, *exc) -> None:
        report._second_view = self.saved


@contextlib.contextmanager
def _no_second_view(ledger):
    yield None


_ENTRY_ISSUED = "SUM(CASE WHEN points > 0 AND kind IN ('earn', 'bonus', 'adjust') THEN points END)"


def measure(db: str, scale: float, postgres: bool, with_duckdb: bool = True) -> list[tuple]:
    store = LedgerStore(db)
    took = fill(store, scale)
    s = report.settings(store)
    rows = []
    with _Entries(store) as before:  # the same run's baseline, and its figures
        rows += [("ledger SQL, journal entries (before 0026)", name,
                  f"{timed(before, period, scope, s):.2f}", "") for name, period, scope in CASES]
        old_figures = report.build(store, MONTH, Scope(), s)
    shipped = report.build(store, MONTH, Scope(), s)
    rows.append(("ledger SQL, as shipped", "same figures as over the entries (month)",
                 "yes" if shipped == old_figures else "NO", ""))
    with _Before0030(store) as before:
        rows += [("ledger SQL, indexes and cohorts query before 0029/0030", name,
                  f"{timed(before, period, scope, s):.2f}", "") for name, period, scope in CASES]
        same = report.build(store, MONTH, Scope(), s) == shipped
    rows.append(("ledger SQL, as shipped", "same figures as before 0029/0030 (month)",
                 "yes" if same else "NO", ""))
    with _OneConnection():
        rows += [("ledger SQL, as shipped but on one connection", name,
                  f"{timed(store, period, scope, s):.2f}", "") for name, period, scope in CASES]
    engines = [("ledger SQL, as shipped", store)]
    try:
        if with_duckdb:
            engines.append(("DuckDB", duck(db, postgres)))
    except Exception as exc:  # noqa: BLE001 - say why the comparison is missing, keep going
        rows.append(("DuckDB unavailable", str(exc).splitlines()[0], "", ""))
    for engine, target in engines:
        for name, period, scope in CASES:
            rows.append((engine, name, f"{timed(target, period, scope, s):.2f}", ""))
    if len(engines) == 2:  # a faster engine is no use if its figures differ
        same = report.build(store, MONTH, Scope(), s) == report.build(
            engines[1][1], MONTH, Scope(), s
        )
        rows.append(
            ("DuckDB", "same figures as the ledger's SQL (month)", "yes" if same else "NO", "")
        )
    store.close()
    load = ", ".join(f"{t} {v:.0f} s" for t, v in took.items())
    return [("load", load, "", ""), *rows]


def run(scale: float, only: str = "", with_duckdb: bool = True) -> str:
    from simulation.local_postgres import LocalPostgres, pg_bin

    size = ", ".join(f"{int(v * scale):,} {k}" for k, v in FULL.items())
    out = [
        "## Reports (`ledger report`)",
        "",
        f"`.venv/bin/python -m bench.bench_reports --scale {scale}` on {machine()}:"
        f" {size} ({scale:g} of the issue's size), two years; a report is the period's"
        " KPIs, the previous period's, trend and cohorts. Best of two runs, seconds.",
        "",
        "| database | engine | report | seconds |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if only in ("", "sqlite"):
            for engine, name, secs, _ in measure(str(Path(tmp) / "ledger.db"), scale, False, with_duckdb):
                out.append(f"| SQLite | {engine} | {name} | {secs} |")
        if only in ("", "postgresql") and pg_bin() is not None:
            cluster = LocalPostgres(fsync=False).start()
            try:
                url = cluster.database()
                from ledger import db as dbm

                dbm.upgrade(url)
                for engine, name, secs, _ in measure(url, scale, True, with_duckdb):
                    out.append(f"| PostgreSQL | {engine} | {name} | {secs} |")
            finally:
                cluster.stop()
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.1, help="fraction of the issue's size")
    ap.add_argument("--only", choices=("sqlite", "postgresql"), default="")
    ap.add_argument("--no-duckdb", action="store_true", help="leave the DuckDB comparison out")
    args = ap.parse_args()
    print(run(args.scale, args.only, not args.no_duckdb))


if __name__ == "__main__":
    main()
