"""Segments at scale: RFM scoring with every segment refreshed (`ledger segments refresh`), one
rule segment's members (`ledger segments members`) and a consent-filtered audience export
(`ledger segments export --consent email`), on SQLite and PostgreSQL.

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
from pathlib import Path

from bench import bench_reports as data
from bench.common import machine
from ledger import segment_book, segment_export
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


def best(fn) -> tuple[float, object]:
    """The better of two runs of ``fn(run)`` and the last one's result."""
    times, out = [], None
    for n in range(2):
        t0 = time.perf_counter()
        out = fn(n)
        times.append(time.perf_counter() - t0)
    return min(times), out


def measure(db: str, scale: float) -> list[tuple[str, str]]:
    store = LedgerStore(db)
    data.FULL.update({k: v for k, v in FULL.items()})  # the generator reads its sizes there
    took = data.fill(store, scale)
    profiles(store, max(1, int(FULL["members"] * scale)))
    segment_book.add(store, RULE)
    rows = [("load", ", ".join(f"{t} {v:.0f} s" for t, v in took.items()))]
    secs, changes = best(lambda n: segment_book.refresh(store, NOW + dt.timedelta(seconds=n)))
    sizes = ", ".join(f"{s} {n:,}" for s, n in sorted(changes.sizes.items()))
    rows.append(("RFM scores + every segment refreshed", f"{secs:.2f} ({sizes})"))
    secs, found = best(lambda n: segment_book.members(store, RULE["id"], NOW))
    rows.append((f"rule segment members ({RULE['id']}: {len(found):,})", f"{secs:.2f}"))
    for segment in ("champions", RULE["id"]):
        def export(n: int, segment: str = segment) -> int:
            out = io.StringIO()
            segment_export.write(segment_export.rows(store, segment, "email"), "csv", out)
            return out.getvalue().count("\n") - 1
        secs, n = best(export)
        rows.append((f"audience export {segment}, email consent ({n:,} rows)", f"{secs:.2f}"))
    store.close()
    return rows


def run(scale: float, only: str = "") -> str:
    from simulation.local_postgres import LocalPostgres, pg_bin

    size = ", ".join(f"{int(v * scale):,} {k}" for k, v in FULL.items())
    out = ["## Segments (`ledger segments`)", "",
           f"`.venv/bin/python -m bench.bench_segments --scale {scale}` on {machine()}: {size}"
           f" ({scale:g} of this benchmark's size), two years. Best of two runs, seconds.", "",
           "| database | what | seconds |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        if only in ("", "sqlite"):
            for what, secs in measure(str(Path(tmp) / "ledger.db"), scale):
                out.append(f"| SQLite | {what} | {secs} |")
        if only in ("", "postgresql") and pg_bin() is not None:
            cluster = LocalPostgres(fsync=False).start()
            try:
                url = cluster.database()
                from ledger import db as dbm

                dbm.upgrade(url)
                for what, secs in measure(url, scale):
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
