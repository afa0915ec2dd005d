"""Ledger throughput: ops applied per second by 1, 2 and 4 `ledger serve` workers sharing one
Mosquitto ($share/ledger/...), on SQLite and on PostgreSQL, with 10,000 ops published straight
to the broker by 100 simulated kiosks; exactly-once checked after every run. Baseline in the same
run: the rate the 100 kiosks can publish with no ledger at all (the ceiling of this set-up).

Run: .venv/bin/python -m bench.bench_ledger
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import disk_of, machine

N = int(os.environ.get("BENCH_LEDGER_OPS", "10000"))  # fewer for a quick try
KIOSKS = 100
MEMBERS = 1_000
WORKERS = (1, 2, 4)
REPEATS = int(os.environ.get("BENCH_LEDGER_REPEATS", "3"))
CARDS = [f"04{i:012X}" for i in range(MEMBERS)]


def op(i: int) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i // KIOSKS + 1, "kind": "sale",
            "token": {"kind": "uid", "value": CARDS[i % MEMBERS]}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1250, "earn": 12, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1}


class Kiosks:
    """100 MQTT clients, one per kiosk: publish ops pipelined (QoS 1), count the acks."""

    def __init__(self, broker, count_acks: bool = True) -> None:
        from mqtt import topics
        from mqtt.client import MqttLink

        self.acked = 0
        self.done = threading.Event()
        self._lock = threading.Lock()
        self.links = []
        for k in range(KIOSKS):
            link = MqttLink(host=broker.host, port=broker.port, client_id=f"bench-k{k}",
                            clean_start=True, max_inflight=1000, on_message=self._ack)
            if count_acks:
                link.subscribe(topics.acks("store-1", f"kiosk-{k}"), 1)
            link.start()
            self.links.append(link)
        for link in self.links:
            link.wait_connected(10)
            link.subscribed.wait(10)

    def _ack(self, msg) -> None:
        with self._lock:
            self.acked += 1
            if self.acked >= N:
                self.done.set()

    def publish_all(self, ops: list[bytes]) -> None:
        from mqtt import topics

        infos = []
        for i, payload in enumerate(ops):
            k = i % KIOSKS
            infos.append(self.links[k]._client.publish(topics.ops("store-1", f"kiosk-{k}"),
                                                       payload, qos=1))
        for info in infos:
            info.wait_for_publish(120)

    def stop(self) -> None:
        for link in self.links:
            link.stop()


def prepare(db: str) -> None:
    from ledger.store import LedgerStore

    store = LedgerStore(db)
    with store.transaction():
        for i, card in enumerate(CARDS):
            store.create_member(f"m-{i}")
            store.bind_token(f"m-{i}", "uid", card)
    store.close()


def check(db: str) -> None:
    from ledger.store import LedgerStore

    store = LedgerStore(db)
    ops = store.op_count()
    rows = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT op_id), COALESCE(SUM(points), 0)"
                            " FROM journal WHERE kind='earn'").fetchone()
    store.close()
    if ops != N or tuple(rows) != (N, N, N * 12):
        raise SystemExit(f"exactly-once violated on {db}: {ops} ops, journal {tuple(rows)}")


def run_once(workdir: Path, db: str, workers: int) -> tuple[float, list[int]]:
    """Seconds from the first publish to the last ack; ops each worker applied."""
    from kiosk.local_broker import Mosquitto
    from kiosk.scenario import LedgerProcess
    from mqtt import messages

    broker = Mosquitto(workdir / "broker")
    broker.start()
    prepare(db)
    ledgers = [LedgerProcess(db, broker, workdir / f"w{w}.log", worker=f"w{w}")
               for w in range(workers)]
    payloads = [messages.encode("op", op(i)) for i in range(N)]
    kiosks = None
    try:
        for led in ledgers:
            led.start()
        kiosks = Kiosks(broker)
        t0 = time.perf_counter()
        kiosks.publish_all(payloads)
        if not kiosks.done.wait(600):
            raise SystemExit(f"only {kiosks.acked} of {N} acks")
        elapsed = time.perf_counter() - t0
    finally:
        if kiosks:
            kiosks.stop()
        for led in ledgers:
            led.stop()
        broker.stop()
    check(db)
    split = [int((workdir / f"w{w}.log").read_text().split("after applying ")[-1].split()[0])
             for w in range(workers)]
    return elapsed, split


def apply_only(db: str) -> float:
    """Seconds to apply the ops in-process in batches of 256 as the service does, no MQTT:
    what the database and the apply code alone can take."""
    from ledger.batch import apply_batch
    from ledger.program import DefaultProgram
    from ledger.service import MAX_BATCH
    from ledger.store import LedgerStore

    prepare(db)
    ops = [op(i) for i in range(N)]
    program = DefaultProgram()
    store = LedgerStore(db)
    t0 = time.perf_counter()
    for i in range(0, N, MAX_BATCH):
        with store.transaction():
            apply_batch(store, lambda _op: program,
                        [(o, ("store-1", "kiosk-0", 1)) for o in ops[i:i + MAX_BATCH]])
    elapsed = time.perf_counter() - t0
    store.close()
    check(db)
    return elapsed


def ceiling(workdir: Path) -> float:
    """Publishes per second from the 100 kiosks with nobody applying (QoS 1 to the broker)."""
    from kiosk.local_broker import Mosquitto
    from mqtt import messages

    broker = Mosquitto(workdir / "broker-ceiling")
    broker.start()
    payloads = [messages.encode("op", op(i)) for i in range(N)]
    kiosks = Kiosks(broker, count_acks=False)
    try:
        t0 = time.perf_counter()
        kiosks.publish_all(payloads)
        elapsed = time.perf_counter() - t0
    finally:
        kiosks.stop()
        broker.stop()
    return N / elapsed


def median_run(tmp: Path, name: str, workers: int, new_db) -> tuple[float, list[int], str]:
    """REPEATS runs on fresh databases: the median's seconds and split, and the range of ops/s
    (the machine is shared: single runs vary)."""
    runs = []
    for r in range(REPEATS):
        work = tmp / f"{name}-{workers}-{r}"
        work.mkdir()
        runs.append(run_once(work, new_db(work), workers))
    runs.sort()
    rates = sorted(N / t for t, _ in runs)
    return (*runs[len(runs) // 2], f"{rates[0]:,.0f}-{rates[-1]:,.0f}")


def run() -> str:
    from ledger import db as dbm
    from ledger.local_postgres import LocalPostgres, pg_bin

    def new_pg(_work: Path) -> str:
        url = cluster.database()
        dbm.upgrade(url)
        return url

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        tmp = Path(tmp)
        top = ceiling(tmp)
        sqlite = "SQLite (WAL, synchronous=FULL)"
        for w in WORKERS:
            rows.append((sqlite, w, *median_run(tmp, "sqlite", w, lambda work: str(work / "l.db"))))
        rows.append((sqlite + ", apply only: no MQTT", 0, apply_only(str(tmp / "only.db")), [], ""))
        if pg_bin() is not None:
            cluster = LocalPostgres(fsync=True).start()
            try:
                for w in WORKERS:
                    rows.append(("PostgreSQL 15 (fsync on)", w, *median_run(tmp, "pg", w, new_pg)))
                rows.append(("PostgreSQL 15, apply only: no MQTT", 0, apply_only(new_pg(tmp)), [],
                             ""))
            finally:
                cluster.stop()
        disk = disk_of(str(tmp))
    return report(rows, top, disk, pg_bin() is not None)


def report(rows: list, top: float, disk: str, with_pg: bool) -> str:
    lines = ["## Ledger: ops applied per second, SQLite and PostgreSQL, 1-4 workers", "",
             "Command: `.venv/bin/python -m bench.bench_ledger`  ", f"Machine: {machine()}", "",
             f"{N:,} sale ops published straight to a private Mosquitto by {KIOSKS} simulated"
             f" kiosks (one MQTT client each, QoS 1, pipelined), for {MEMBERS:,} members; `ledger"
             " serve` workers share the ops through `$share/ledger/...` and group-commit them."
             " Timed from the first publish to the last ack (an ack is sent only after the"
             " commit). Exactly-once checked after each run: the ops table and the journal hold"
             f" each op_id once and the points add up. Median of {REPEATS} runs, each on a fresh"
             f" database, with the range. Data on {disk}; everything (broker, kiosks, workers,"
             " PostgreSQL) shares the machine's cores, and the machine is shared with other jobs."
             " The apply-only rows run the service's batch apply in one process without MQTT."
             " Goal: >= 5,000 ops/s on SQLite and with 4 workers on PostgreSQL.", "",
             "| database | workers | seconds | ops/s | range of runs | ops per worker |"
             " vs publish ceiling |",
             "|---|---:|---:|---:|---:|---|---:|",
             f"| baseline: the kiosks publishing, no ledger | 0 | {N / top:.2f} | {top:,.0f} | - |"
             " - | 1.00 |"]
    for name, w, elapsed, split, spread in rows:
        rate = N / elapsed
        lines.append(f"| {name} | {w or 'in-process'} | {elapsed:.2f} | {rate:,.0f} |"
                     f" {spread or '-'} | {json.dumps(split) if split else '-'} |"
                     f" {rate / top:.2f} |")
    if not with_pg:
        lines.append("\nPostgreSQL rows missing: its server binaries are not installed.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
