"""Business events on the sale path: the ledger's in-process batch apply (bench.bench_ledger's
"apply only", 10,000 plain sales in batches of 256) with its points.earned events written, and
the same code with event writing switched off, alternating in one run, on SQLite and PostgreSQL.
Reported: the median rate of each and their ratio; also the ledger process's own CPU per op
(steadier on a shared machine than the wall clock; PostgreSQL's server CPU is not in it).

Run: .venv/bin/python -m bench.bench_events
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine

REPEATS = int(os.environ.get("BENCH_EVENTS_REPEATS", "9"))


def child(db: str, events_on: bool) -> tuple[float, float]:
    """Wall and CPU seconds of the apply loop (in a fresh process: no warm caches shared)."""
    from bench import bench_ledger as b
    from ledger.batch import apply_batch
    from ledger.service import MAX_BATCH
    from ledger.store import LedgerStore
    from program.engine import DefaultProgram

    if not events_on:  # the batch way without its events: what the sale path cost before
        import ledger.batch

        ledger.batch.op_events = _NoEvents()
        write_many = LedgerStore.write_many
        LedgerStore.write_many = lambda self, journal, ops, sales=(), _events=(): write_many(
            self, journal, ops, sales)
    b.prepare(db)
    ops = [b.op(i) for i in range(b.N)]
    program, store = DefaultProgram(), LedgerStore(db)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, b.N, MAX_BATCH):
        with store.transaction():
            apply_batch(store, lambda _op: program,
                        [(o, ("store-1", "kiosk-0", 1)) for o in ops[i:i + MAX_BATCH]])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    store.close()
    b.check(db)
    if events_on and _event_count(db) != b.N:
        raise SystemExit(f"expected {b.N} points.earned events")
    return wall, cpu


class _NoEvents:
    """Stands in for ledger.op_events in the batch: no event rows made."""

    def earned_row(self, *args, **kwargs) -> None:
        return None


def _event_count(db: str) -> int:
    from ledger.store import LedgerStore

    store = LedgerStore(db)
    try:
        return store.db.execute("SELECT COUNT(*) FROM events WHERE type='points.earned'"
                                ).fetchone()[0]
    finally:
        store.close()


def measure(new_db) -> dict[bool, list[tuple[float, float]]]:
    runs: dict[bool, list] = {True: [], False: []}
    for _ in range(REPEATS):
        for on in (False, True):
            out = subprocess.run([sys.executable, "-m", "bench.bench_events", "--child",
                                  new_db(), "on" if on else "off"],
                                 capture_output=True, text=True, timeout=600, check=True)
            runs[on].append(tuple(map(float, out.stdout.split())))
    return runs


def run() -> str:
    from bench.bench_ledger import N
    from ledger import db as dbm
    from simulation.local_postgres import LocalPostgres, pg_bin

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        count = iter(range(1_000_000))
        rows.append(("SQLite (WAL, synchronous=FULL)",
                     measure(lambda: str(Path(tmp) / f"e{next(count)}.db"))))
        if pg_bin() is not None:
            cluster = LocalPostgres(fsync=True).start()
            try:
                def new_pg() -> str:
                    url = cluster.database()
                    dbm.upgrade(url)
                    return url

                rows.append(("PostgreSQL 15 (fsync on)", measure(new_pg)))
            finally:
                cluster.stop()
    return report(rows, N)


def report(rows: list, n: int) -> str:
    lines = [
        "## Events: the sale path with and without its business events",
        "",
        f"`.venv/bin/python -m bench.bench_events` on {machine()}: {n:,} plain sales applied in"
        f" process in batches of 256 (the ledger's group commit, no MQTT), {REPEATS} runs each"
        " way, alternating; medians. \"off\": the same code with the batch's points.earned rows"
        " not written. CPU: the ledger process only.",
        "",
        "| database | events off ops/s | events on ops/s | on / off (range of pairs) |"
        " CPU µs/op off | on | on / off |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in rows:
        off_wall = statistics.median(r[0] for r in runs[False])
        on_wall = statistics.median(r[0] for r in runs[True])
        off_cpu = statistics.median(r[1] for r in runs[False])
        on_cpu = statistics.median(r[1] for r in runs[True])
        pairs = sorted(off[0] / on[0] for off, on in zip(runs[False], runs[True], strict=True))
        lines.append(f"| {name} | {n / off_wall:,.0f} | {n / on_wall:,.0f} |"
                     f" {off_wall / on_wall:.2f} ({pairs[0]:.2f}-{pairs[-1]:.2f}) |"
                     f" {off_cpu / n * 1e6:.0f} | {on_cpu / n * 1e6:.0f} |"
                     f" {off_cpu / on_cpu:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(*child(sys.argv[2], sys.argv[3] == "on"))
    else:
        print(run())
