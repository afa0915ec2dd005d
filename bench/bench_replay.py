"""Replay drain: queued ops through a real Mosquitto to a real `ledger serve`, applied and acked,
with the kiosk's in-flight window vs a stop-and-wait baseline (one op in flight), beside paho's
pipelined QoS 1 publish rate (the ceiling), refund ops (contract v1.1) beside them, and the
cost of the ledger's facts (every paid basket recorded, member-less baskets as basket ops), all
in one run.

Run: .venv/bin/python -m bench.bench_replay
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from bench.common import machine

N = 10_000
N_BASELINE = 1_000
N_REFUNDS = 5_000
WINDOW = 256
CARDS = [f"04{i:012X}" for i in range(100)]


def op(i: int) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i + 1, "kind": "sale",
            "token": {"kind": "uid", "value": CARDS[i % len(CARDS)]}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1250, "earn": 12, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1,
            "enrol": True}  # the ledger enrols an unknown card only when its customer joined


def drain(workdir: Path, n: int, window: int, quota=None,
          ledger_module: str = "ledger.cli") -> tuple[float, int]:
    """Seconds from kiosk start to an empty outbox, and ops the ledger applied (checked); with
    ``quota`` (bench.pi_quota) the kiosk's process runs under it, the broker and ledger not;
    ``ledger_module`` runs a variant of the ledger's entry point."""
    from kiosk.outbox import Outbox
    from ledger.store import LedgerStore
    from simulation.local_broker import Mosquitto
    from simulation.scenario import LedgerProcess, wait_for
    from simulation.simulated_kiosk import SimulatedKiosk, sim_config

    broker = Mosquitto(workdir / "broker")
    broker.start()
    ledger = LedgerProcess(workdir / "ledger.db", broker, workdir / "ledger.log",
                           module=ledger_module)
    cfg = sim_config(broker.port, workdir, outbox={"inflight": window, "retry_seconds": 30.0})
    box = Outbox(cfg["outbox"]["path"])
    box.add_many([(op(i), "k", 12) for i in range(n)])
    box.close()
    try:
        ledger.cli("members")
        ledger.start()
        if quota is not None:
            quota.run_here()
        kiosk = SimulatedKiosk(cfg)
        t0 = time.perf_counter()
        kiosk.start()
        wait_for(lambda: kiosk.outbox_depth() == 0, 600)
        elapsed = time.perf_counter() - t0
        kiosk.stop()
    finally:
        if quota is not None:
            quota.leave()
        ledger.stop()
        broker.stop()
    store = LedgerStore(workdir / "ledger.db")
    applied = store.op_count()
    journal = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM journal"
                               " WHERE kind='earn'").fetchone()
    if not (applied == n and journal == (n, n)):
        raise SystemExit(f"exactly-once violated: {applied} ops, journal {journal}, expected {n}")
    return elapsed, applied


TEA = {"sku": "tea", "qty": 2, "unit_minor": 625}


def refund_drain(workdir: Path, n: int, window: int) -> tuple[float, int]:
    """Refund ops the same way: ``n`` sales (with lines) applied first, untimed; then ``n``
    refunds of them queued as the kiosk queues a POS refund (kiosk.returns), half whole, half
    one line of two, timed from kiosk start to an empty outbox; each refund checked once."""
    from kiosk.outbox import Outbox
    from kiosk.ports import Ports
    from kiosk.returns import Returns
    from ledger.store import LedgerStore
    from simulation.local_broker import Mosquitto
    from simulation.scenario import LedgerProcess, wait_for
    from simulation.simulated_kiosk import SimulatedKiosk, sim_config

    broker = Mosquitto(workdir / "broker")
    broker.start()
    ledger = LedgerProcess(workdir / "ledger.db", broker, workdir / "ledger.log")
    cfg = sim_config(broker.port, workdir, outbox={"inflight": window, "retry_seconds": 30.0})
    box = Outbox(cfg["outbox"]["path"])
    box.add_many([({**op(i), "items": [TEA]}, "k", 12) for i in range(n)])
    box.close()
    try:
        ledger.cli("members")
        ledger.start()
        for timed in (False, True):
            if timed:
                box = Outbox(cfg["outbox"]["path"])
                offline = Ports(publish=lambda *a, **k: False, show=lambda view: None)
                returns = Returns(box, "store-1", "lane-1", lambda *a: True, offline)
                for i in range(n):
                    lines = {"lines": [{"sku": "tea", "qty": 1}]} if i % 2 else {}
                    returns.refund({"v": 1, "refund_id": f"r-{i}", "basket_id": f"b-{i}",
                                    **lines}, 1)
                box.close()
            kiosk = SimulatedKiosk(cfg)
            t0 = time.perf_counter()
            kiosk.start()
            wait_for(lambda: kiosk.outbox_depth() == 0, 600)  # noqa: B023 - waited on here
            elapsed = time.perf_counter() - t0
            kiosk.stop()
    finally:
        ledger.stop()
        broker.stop()
    store = LedgerStore(workdir / "ledger.db")
    refunds = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM journal"
                               " WHERE kind='refund'").fetchone()
    rows = store.db.execute("SELECT COUNT(*) FROM refunds").fetchone()[0]
    if not (store.op_count() == 2 * n and refunds == (n, n) and rows == n):
        raise SystemExit(f"exactly-once violated: {store.op_count()} ops, refunds {refunds},"
                         f" {rows} refund rows, expected {n}")
    return elapsed, rows


def basket_op(i: int) -> dict:
    """A basket paid with no member (contract v1.1), as kiosk.ops.basket_op makes it."""
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i + 1, "kind": "basket",
            "basket_id": f"b-{i}", "lane": "lane-1", "currency": "EUR", "total_minor": 1250,
            "items": [TEA], "created_at": "2026-01-01T00:00:00Z", "program_version": 1}


def facts_drain(workdir: Path, n: int, every: int, facts_on: bool) -> tuple[float, int]:
    """``n`` ops with lines drained as ``drain`` does; every ``every``-th one a member-less
    basket op (0: none); ``facts_on`` False runs the ledger without fact recording
    (bench.ledger_without_facts). Checked: each sale earns once, each fact row is there once."""
    from kiosk.outbox import Outbox
    from ledger.store import LedgerStore
    from simulation.local_broker import Mosquitto
    from simulation.scenario import LedgerProcess, wait_for
    from simulation.simulated_kiosk import SimulatedKiosk, sim_config

    broker = Mosquitto(workdir / "broker")
    broker.start()
    module = "ledger.cli" if facts_on else "bench.ledger_without_facts"
    ledger = LedgerProcess(workdir / "ledger.db", broker, workdir / "ledger.log", module=module)
    cfg = sim_config(broker.port, workdir, outbox={"inflight": WINDOW, "retry_seconds": 30.0})
    ops = [basket_op(i) if every and i % every == every - 1 else {**op(i), "items": [TEA]}
           for i in range(n)]
    box = Outbox(cfg["outbox"]["path"])
    box.add_many([(o, "k", 12 if o["kind"] == "sale" else 0) for o in ops])
    box.close()
    try:
        ledger.cli("members")
        ledger.start()
        kiosk = SimulatedKiosk(cfg)
        t0 = time.perf_counter()
        kiosk.start()
        wait_for(lambda: kiosk.outbox_depth() == 0, 600)
        elapsed = time.perf_counter() - t0
        kiosk.stop()
    finally:
        ledger.stop()
        broker.stop()
    store = LedgerStore(workdir / "ledger.db")
    sales = sum(o["kind"] == "sale" for o in ops)
    earn = store.db.execute("SELECT COUNT(DISTINCT op_id) FROM journal WHERE kind='earn'")
    rows = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM baskets").fetchone()
    want = (n, n) if facts_on else (0, 0)
    if not (store.op_count() == n and earn.fetchone()[0] == sales and rows == want):
        raise SystemExit(f"exactly-once violated: {store.op_count()} ops, facts {rows}")
    return elapsed, n


def facts_rows(tmp: Path) -> list[str]:
    """Sales with and without fact recording, and with a member-less basket op in every four
    ops, alternated twice so machine load falls on both alike; the best of each."""
    runs: dict[str, list[float]] = {"off": [], "on": [], "mixed": []}
    for round_ in range(2):
        for name, every, on in (("off", 0, False), ("on", 0, True), ("mixed", 4, True)):
            t, n = facts_drain(tmp / f"facts-{name}-{round_}", N, every, on)
            runs[name].append(n / t)
    off, on, mixed = (max(runs[k]) for k in ("off", "on", "mixed"))
    return [
        f"| sales, window of {WINDOW}, ledger without fact recording | {N:,} | {N / off:.2f} |"
        f" {off:,.0f} | 1.00 |",
        f"| sales, window of {WINDOW}, every basket recorded (facts) | {N:,} | {N / on:.2f} |"
        f" {on:,.0f} | {on / off:.2f} |",
        f"| the same, one op in four a member-less basket op | {N:,} | {N / mixed:.2f} |"
        f" {mixed:,.0f} | {mixed / off:.2f} |",
    ]


def paho_ceiling(workdir: Path, n: int) -> float:
    """QoS 1 publishes per second with paho pipelining (no ledger): what the link can carry."""
    from mqtt.client import MqttLink
    from simulation.local_broker import Mosquitto

    broker = Mosquitto(workdir / "broker-ceiling")
    broker.start()
    link = MqttLink(host=broker.host, port=broker.port, client_id="ceiling", max_inflight=WINDOW)
    link.start()
    link.wait_connected(10)
    payload = b"x" * 420  # about an op's size
    infos = []
    t0 = time.perf_counter()
    for _ in range(n):
        infos.append(link._client.publish("bench/ceiling", payload, qos=1))
    for info in infos:
        info.wait_for_publish(30)
    elapsed = time.perf_counter() - t0
    link.stop()
    broker.stop()
    return n / elapsed


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        tmp = Path(tmp)
        ceiling = paho_ceiling(tmp, N)
        t_win, n_win = drain(tmp / "window", N, WINDOW)
        t_one, n_one = drain(tmp / "stop-and-wait", N_BASELINE, 1)
        t_ref, n_ref = refund_drain(tmp / "refunds", N_REFUNDS, WINDOW)
        facts = facts_rows(tmp)
    rate_win, rate_one, rate_ref = n_win / t_win, n_one / t_one, n_ref / t_ref
    return "\n".join([
        "## Replay drain: outbox -> Mosquitto -> ledger -> ack", "",
        "Command: `.venv/bin/python -m bench.bench_replay`  ", f"Machine: {machine()}", "",
        f"{N:,} ops queued in the kiosk's outbox (100 cards), a private Mosquitto and `ledger serve`"
        " on SQLite (WAL, synchronous=FULL) on loopback; timed from kiosk start to an empty outbox;"
        " exactly-once checked after each run (ops table and journal hold each op_id once)."
        " Goal: >= 2,500 ops/s and >= 2x stop-and-wait.", "",
        "| mode | ops | seconds | ops/s | vs stop-and-wait |", "|---|---:|---:|---:|---:|",
        f"| window of {WINDOW} in flight (ledger group commit) | {n_win:,} | {t_win:.2f} |"
        f" {rate_win:,.0f} | {rate_win / rate_one:.1f}x |",
        f"| stop-and-wait, one op in flight | {n_one:,} | {t_one:.2f} | {rate_one:,.0f} | 1.0x |",
        f"| refund ops (v1.1), window of {WINDOW}: half whole, half one line | {n_ref:,} |"
        f" {t_ref:.2f} | {rate_ref:,.0f} | {rate_ref / rate_one:.1f}x |",
        f"| ceiling: paho pipelined QoS 1 publishes, no ledger | {N:,} | {N / ceiling:.2f} |"
        f" {ceiling:,.0f} | {ceiling / rate_one:.1f}x |", "",
        "Facts (every paid basket kept, ledger.facts): sales with lines, best of two alternated"
        " runs each.", "",
        "| mode | ops | seconds | ops/s | vs without facts |", "|---|---:|---:|---:|---:|",
        *facts, ""])


if __name__ == "__main__":
    print(run())
