"""Reports (ledger.kpis) read baskets and journal entries by time: a month's report then reads a
month, not the whole table (docs/reports.md, bench/bench_reports.py)."""

from yoyo import step

__depends__ = {"0017.reservations"}

steps = [
    step("CREATE INDEX baskets_at ON baskets(at)", "DROP INDEX baskets_at"),
    step("CREATE INDEX journal_at ON journal(at)", "DROP INDEX journal_at"),
]
