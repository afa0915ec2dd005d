"""What the journal's per-day sums (migration 0026's trigger) cost the sale path: ops applied
per second in-process, in batches as the service applies them (bench.bench_ledger.apply_only),
on a ledger with the trigger and on one with it dropped, alternating, in the same run.

    .venv/bin/python -m bench.bench_journal_days
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from bench import bench_ledger
from bench.common import machine
from ledger.store import LedgerStore

REPEATS = int(os.environ.get("BENCH_JOURNAL_DAYS_REPEATS", "3"))


def without_trigger(db: str) -> None:
    store = LedgerStore(db)  # upgraded: 0026 is in
    with store.transaction():
        store.db.execute("DROP TRIGGER journal_days_add" + (" ON journal" if store.postgres else ""))
    store.close()


def rates(new_db) -> tuple[list[float], list[float]]:
    """ops/s with the trigger and without, REPEATS runs each on fresh databases."""
    kept, dropped = [], []
    for _ in range(REPEATS):
        for rates_of, drop in ((kept, False), (dropped, True)):
            db = new_db()
            if drop:
                without_trigger(db)
            rates_of.append(bench_ledger.N / bench_ledger.apply_only(db))
    return kept, dropped


def run() -> str:
    from simulation.local_postgres import LocalPostgres, pg_bin

    out = ["## Journal day sums (cost to the sale path)", "",
           f"`.venv/bin/python -m bench.bench_journal_days` on {machine()}: {bench_ledger.N:,}"
           " sale ops applied in-process in the service's batches, on a ledger with migration"
           " 0026's trigger (the journal summed per day in the same transaction) and on one with"
           f" it dropped, alternating, {REPEATS} runs each; median ops/s.", "",
           "| database | with day sums | without | ratio |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000))
        kept, dropped = rates(lambda: str(Path(tmp) / f"ledger-{next(counter)}.db"))
        out.append(_row("SQLite", kept, dropped))
        if pg_bin() is not None:
            cluster = LocalPostgres(fsync=False).start()
            try:
                from ledger import db as dbm

                def new_pg() -> str:
                    url = cluster.database()
                    dbm.upgrade(url)
                    return url

                kept, dropped = rates(new_pg)
                out.append(_row("PostgreSQL", kept, dropped))
            finally:
                cluster.stop()
    return "\n".join(out) + "\n"


def _row(name: str, kept: list[float], dropped: list[float]) -> str:
    a, b = statistics.median(kept), statistics.median(dropped)
    return f"| {name} | {a:,.0f} | {b:,.0f} | {a / b:.2f} |"


if __name__ == "__main__":
    print(run())
