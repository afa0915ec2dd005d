"""Ledger throughput: ops applied per second by 1, 2 and 4 `ledger serve` workers sharing one
Mosquitto ($share/ledger/...), on SQLite and on PostgreSQL, 10,000 ops from 100 simulated kiosks
(bench/kiosk_fleet.py); exactly-once and every ack checked after each run. Two ways:

- live: the kiosks publish while the workers apply (kiosks, broker, workers and database all on
  this machine's cores at once);
- backlog: the ops are published while the workers are paused (SIGSTOP), as when the ledger comes
  back after maintenance to a queue of ops; timed from the resume to the last ack, so the kiosks'
  publishing is not in the window (their acks still are).

Baseline in the same run: the rate the 100 kiosks can publish with no ledger at all.

Run: .venv/bin/python -m bench.bench_ledger
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.common import disk_of, machine, process_cpu, tree_cpu
from bench.kiosk_fleet import KioskFleet

N = int(os.environ.get("BENCH_LEDGER_OPS", "10000"))  # fewer for a quick try
KIOSKS = 100
MEMBERS = 1_000
WORKERS = tuple(int(w) for w in os.environ.get("BENCH_LEDGER_WORKERS", "1,2,4").split(","))
REPEATS = int(os.environ.get("BENCH_LEDGER_REPEATS", "3"))
# Ops per message (contract v1.2 op_batch; 1: one op per message, as a v1.0 kiosk sends them).
# 16 is what a kiosk's replayer sends with its default window of 64 (kiosk.replay).
BATCH = int(os.environ.get("BENCH_LEDGER_BATCH", "16"))
CARDS = [f"04{i:012X}" for i in range(MEMBERS)]


@dataclass
class Run:
    seconds: float
    split: list[int]  # ops each worker applied
    cpu: dict[str, float]  # CPU seconds: kiosks, broker, workers, database


def op(i: int) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i // KIOSKS + 1, "kind": "sale",
            "token": {"kind": "uid", "value": CARDS[i % MEMBERS]}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1250, "earn": 12, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1}


def prepare(db: str) -> None:
    """The members and their cards; on PostgreSQL, then a checkpoint, so that no run pays for
    writing out the WAL of the runs before it (all runs share one cluster)."""
    from ledger.store import LedgerStore

    store = LedgerStore(db)
    with store.transaction():
        for i, card in enumerate(CARDS):
            store.create_member(f"m-{i}")
            store.bind_token(f"m-{i}", "uid", card)
    if store.postgres:
        store.db.execute("CHECKPOINT")
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


def per_kiosk(payloads: list) -> list[list]:
    """Op i belongs to kiosk i % KIOSKS (its kiosk_seq counts that kiosk's ops)."""
    return [payloads[k::KIOSKS] for k in range(KIOSKS)]


def messages_of(ops: list[dict], batch: int = BATCH) -> list[list[bytes]]:
    """Each kiosk's messages: its ops one per message, or in op_batch messages of ``batch``."""
    from mqtt import batches, messages

    out = []
    for mine in per_kiosk([messages.encode("op", o) for o in ops]):
        if batch <= 1:
            out.append(mine)
            continue
        groups = batches.pack("op_batch", mine, most=batch)
        out.append([batches.join("op_batch", g) if len(g) > 1 else g[0] for g in groups])
    return out


def run_once(workdir: Path, db: str, workers: int, pg_pid: int | None = None,
             backlog: bool = False, module: str = "ledger.cli", batch: int = BATCH) -> Run:
    """Seconds to the last ack (live: from the first publish; backlog: from the resume); ops
    each worker applied; CPU seconds each part used in that time."""
    from simulation.local_broker import Mosquitto
    from simulation.scenario import LedgerProcess

    broker = Mosquitto(workdir / "broker")
    broker.start()
    prepare(db)
    ledgers = [LedgerProcess(db, broker, workdir / f"w{w}.log", worker=f"w{w}", module=module)
               for w in range(workers)]
    ops = [op(i) for i in range(N)]
    fleet = KioskFleet(broker, workdir, messages_of(ops, batch), expected=N)
    try:
        for led in ledgers:
            led.start()
        fleet.start()
        if backlog:
            _signal(ledgers, signal.SIGSTOP)
            fleet.publish()
            fleet.restart_cpu_count()
        cpu = CpuMeter(broker.proc.pid, [led.proc.pid for led in ledgers], pg_pid)
        t0 = time.perf_counter()
        if backlog:
            _signal(ledgers, signal.SIGCONT)
        else:
            fleet.publish()
        fleet.wait_acks(600)
        elapsed = time.perf_counter() - t0
        used = cpu.used(fleet)
    finally:
        _signal(ledgers, signal.SIGCONT)
        fleet.stop()
        for led in ledgers:
            led.stop()
        broker.stop()
    check(db)
    check_acks(fleet, ops)
    split = [int((workdir / f"w{w}.log").read_text().split("after applying ")[-1].split()[0])
             for w in range(workers)]
    return Run(elapsed, split, used)


def _signal(ledgers: list, sig: int) -> None:
    for led in ledgers:
        if led.proc is not None and led.proc.poll() is None:
            os.kill(led.proc.pid, sig)


class CpuMeter:
    """CPU seconds the broker, the workers and the database use from now to ``used()``."""

    def __init__(self, broker_pid: int, worker_pids: list[int], pg_pid: int | None) -> None:
        self.pids, self.pg_pid = [broker_pid, *worker_pids], pg_pid
        self.start = self._now()

    def _now(self) -> list[float]:
        return [process_cpu(pid) for pid in self.pids] + [tree_cpu(self.pg_pid)
                                                          if self.pg_pid else 0.0]

    def used(self, fleet: KioskFleet) -> dict[str, float]:
        spent = [b - a for a, b in zip(self.start, self._now(), strict=True)]
        return {"kiosks": fleet.cpu_seconds(), "broker": spent[0], "workers": sum(spent[1:-1]),
                "database": spent[-1]}


def check_acks(fleet: KioskFleet, ops: list[dict]) -> None:
    """Every kiosk got one ack per op it sent, each saying applied."""
    for k, sent in enumerate(per_kiosk(ops)):
        acks = fleet.acks(k)
        if sorted(a["op_id"] for a in acks) != sorted(o["op_id"] for o in sent) or any(
                a["status"] != "applied" for a in acks):
            raise SystemExit(f"kiosk {k}: acks do not match its {len(sent)} ops")


def apply_only(db: str) -> float:
    """Seconds to apply the ops in-process in batches of 256 as the service does, no MQTT:
    what the database and the apply code alone can take."""
    from ledger.batch import apply_batch
    from ledger.service import MAX_BATCH
    from ledger.store import LedgerStore
    from program.engine import DefaultProgram

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
    from simulation.local_broker import Mosquitto

    broker = Mosquitto(workdir / "broker-ceiling")
    broker.start()
    fleet = KioskFleet(broker, workdir, messages_of([op(i) for i in range(N)]), acks=False)
    try:
        fleet.start()
        t0 = time.perf_counter()
        fleet.publish()
        elapsed = time.perf_counter() - t0
    finally:
        fleet.stop()
        broker.stop()
    return N / elapsed


def median_run(tmp: Path, name: str, workers: int, new_db, pg_pid: int | None = None,
               backlog: bool = False) -> tuple[Run, str]:
    """REPEATS runs on fresh databases: the median run, and the range of ops/s (the machine
    is shared: single runs vary)."""
    runs = []
    for r in range(REPEATS):
        work = tmp / f"{name}-{workers}-{'backlog' if backlog else 'live'}-{r}"
        work.mkdir()
        runs.append(run_once(work, new_db(work), workers, pg_pid, backlog))
    runs.sort(key=lambda run: run.seconds)
    rates = sorted(N / run.seconds for run in runs)
    return runs[len(runs) // 2], f"{rates[0]:,.0f}-{rates[-1]:,.0f}"


def measure(tmp: Path, label: str, new_db, pg_pid: int | None = None) -> list:
    rows = []
    for w in WORKERS:
        for backlog in (False, True):
            name = f"{label}, {'backlog' if backlog else 'live'}"
            rows.append((name, w, *median_run(tmp, label[:6], w, new_db, pg_pid, backlog)))
    return rows


def run() -> str:
    from ledger import db as dbm
    from simulation.local_postgres import LocalPostgres, pg_bin

    def new_pg(_work: Path) -> str:
        url = cluster.database()
        dbm.upgrade(url)
        return url

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        tmp = Path(tmp)
        top = ceiling(tmp)
        sqlite = "SQLite (WAL, synchronous=FULL)"
        rows += measure(tmp, sqlite, lambda work: str(work / "l.db"))
        rows.append((sqlite + ", apply only: no MQTT", 0,
                     Run(apply_only(str(tmp / "only.db")), [], {}), ""))
        if pg_bin() is not None:
            cluster = LocalPostgres(fsync=True).start()
            try:
                rows += measure(tmp, "PostgreSQL 15 (fsync on)", new_pg, cluster.server_pid())
                rows.append(("PostgreSQL 15, apply only: no MQTT", 0,
                             Run(apply_only(new_pg(tmp)), [], {}), ""))
            finally:
                cluster.stop()
        disk = disk_of(str(tmp))
    return report(rows, top, disk, pg_bin() is not None)


def report(rows: list, top: float, disk: str, with_pg: bool) -> str:
    lines = ["## Ledger: ops applied per second, SQLite and PostgreSQL, 1-4 workers", "",
             "Command: `.venv/bin/python -m bench.bench_ledger`  ", f"Machine: {machine()}", "",
             f"{N:,} sale ops from {KIOSKS} simulated kiosks in 10 stores, for {MEMBERS:,}"
             " members, through a private Mosquitto: each kiosk publishes its ops on its own"
             " connection (`mosquitto_pub`, QoS 1, pipelined), "
             + (f"{BATCH} to an op_batch message (contract v1.2, as a kiosk's replayer sends"
                " them with its default window)" if BATCH > 1 else "one op per message (v1.0)")
             + ", and each store takes its kiosks'"
             " acks on one connection, as a store broker's bridge does (bench/kiosk_fleet.py)."
             " `ledger serve` workers share the ops through `$share/ledger/...` and"
             " group-commit them. **live**: the kiosks publish while the workers apply; timed"
             " from the first publish to the last ack. **backlog**: the ops are published while"
             " the workers are paused (SIGSTOP), as when the ledger comes back to a queue of"
             " ops; timed from the resume to the last ack. An ack is sent only after the"
             " commit. Checked after each run: the ops table and the journal hold each op_id"
             " once, the points add up, and every kiosk got exactly one `applied` ack for each"
             f" of its ops, on its own topic. Median of {REPEATS} runs, each on a fresh"
             f" database, with the range. Data on {disk}. Everything (kiosks, broker, workers,"
             " PostgreSQL) shares the machine's 2 cores, and the machine is shared with other"
             " jobs. The apply-only rows run the service's batch apply in one process without"
             " MQTT. Goal: through MQTT >= 0.6 of the apply-only rate on SQLite, >= 0.5 on"
             " PostgreSQL with 4 workers.", "",
             "| database, way | workers | seconds | ops/s | range of runs | ops per worker |"
             " vs publish ceiling | vs apply only |",
             "|---|---:|---:|---:|---:|---|---:|---:|",
             f"| baseline: the kiosks publishing, no ledger | 0 | {N / top:.2f} | {top:,.0f} | - |"
             " - | 1.00 | - |"]
    apply = {name.split(" ")[0]: N / run.seconds for name, w, run, _ in rows if w == 0}
    for name, w, run, spread in rows:
        rate = N / run.seconds
        lines.append(f"| {name} | {w or 'in-process'} | {run.seconds:.2f} | {rate:,.0f} |"
                     f" {spread or '-'} | {json.dumps(run.split) if run.split else '-'} |"
                     f" {rate / top:.2f} | {rate / apply[name.split(' ')[0]]:.2f} |")
    if not with_pg:
        lines.append("\nPostgreSQL rows missing: its server binaries are not installed.")
    lines += ["", "Where the two cores went in the median run of each row: CPU microseconds per"
              " op in the timed window, from /proc (workers: all of them together; PostgreSQL:"
              " the server and its backends). \"busy\" is all of it over the window's wall"
              " time, in cores: 2.00 is the whole machine.", "",
              "| database, way | workers | kiosks | broker | workers' CPU | database | total |"
              " busy |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, w, run, _ in rows:
        if run.cpu:
            us = {k: v / N * 1e6 for k, v in run.cpu.items()}
            lines.append(f"| {name} | {w} | {us['kiosks']:.0f} | {us['broker']:.0f} |"
                         f" {us['workers']:.0f} | {us['database']:.0f} |"
                         f" {sum(us.values()):.0f} | {sum(run.cpu.values()) / run.seconds:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
