"""MQTT clients for the ledger's message loop: paho as the ledger uses it (mqtt/paho_tuned.py),
plain paho, and gmqtt (another maintained client, asyncio), each answering every QoS 1 message
with a QoS 1 reply, as a worker answers a lone op with its ack. Nothing of the ledger runs: this
is what a message costs the client, the part of a worker's time that one op a message adds.

Then the whole ledger, one op a message, as shipped and with its link on gmqtt.

Run: .venv/bin/python -m bench.bench_mqtt_clients [--no-ledger]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import machine, median, process_cpu

N = 20_000
ROUNDS = 3
CLIENTS = (("link", "paho 2.x in mqtt.client.MqttLink with mqtt/paho_tuned.py (the ledger's)"),
           ("link-unpatched", "the same MqttLink without paho_tuned's two patches"),
           ("paho", "paho 2.x as released, its own loop_forever"),
           ("gmqtt", "gmqtt (asyncio)"))
OP = json.dumps({"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
                 "token": {"kind": "uid", "value": "04A1B2C3D4E5F6"}, "basket_id": "b-1",
                 "currency": "EUR", "total_minor": 1250, "earn": 12, "redeem": [],
                 "created_at": "2026-01-01T00:00:00Z", "program_version": 1}).encode()


def one_run(workdir: Path, client: str, n: int = N) -> tuple[float, float]:
    """(seconds from the first publish to the last reply, responder CPU µs per message)."""
    from simulation.local_broker import Mosquitto

    broker = Mosquitto(workdir / f"broker-{client}")
    broker.start()
    common = ["-h", "127.0.0.1", "-p", str(broker.port), "-V", "5", "-q", "1"]
    responder = subprocess.Popen([sys.executable, "-m", "bench.mqtt_responder", client,
                                  str(broker.port)], stdout=subprocess.PIPE, text=True)
    counter = pub = None
    try:
        if responder.stdout.readline().strip() != "ready":
            raise SystemExit(f"{client}: the responder did not start")
        counter = subprocess.Popen(["mosquitto_sub", *common, "-t", "bench/acks/#",
                                    "-C", str(n)], stdout=subprocess.DEVNULL)
        pub = subprocess.Popen(["mosquitto_pub", *common, "-t", "bench/ops/1", "-l",
                                "-M", str(n)], stdin=subprocess.PIPE)
        time.sleep(0.5)  # both connected and subscribed (they print nothing)
        cpu0, t0 = process_cpu(responder.pid), time.perf_counter()
        pub.stdin.write(b"\n".join([OP] * n) + b"\n")
        pub.stdin.close()
        try:
            counter.wait(60 + n / 1000)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"{client}: not every message was answered") from None
        elapsed = time.perf_counter() - t0
        time.sleep(0.3)  # the last replies' PUBACKs reach the responder
        cpu = process_cpu(responder.pid) - cpu0
    finally:
        for proc in (pub, counter, responder):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        broker.stop()
    return elapsed, cpu / n * 1e6


def ledger_rows(tmp: Path, rounds: int) -> list[str]:
    """`ledger serve` (SQLite, one worker, live) taking 10,000 ops one a message, as shipped and
    with its link on gmqtt (bench/gmqtt_variant.py), alternated; against the apply-only rate."""
    from bench import bench_ledger

    runs: dict[str, list] = {"ledger.cli": [], "bench.gmqtt_variant": []}
    for r in range(rounds):
        for module in runs:
            work = tmp / f"ledger-{r}-{module}"
            work.mkdir()
            runs[module].append(bench_ledger.run_once(work, str(work / "l.db"), 1,
                                                      module=module, batch=1))
    only = bench_ledger.N / bench_ledger.apply_only(str(tmp / "only.db"))
    rows = ["| ledger, SQLite, 1 worker, one op a message, live | ops/s, median (range) |"
            " workers' CPU µs an op | vs apply only |", "|---|---:|---:|---:|"]
    for module, label in (("ledger.cli", "as shipped: paho in MqttLink"),
                          ("bench.gmqtt_variant", "the same ledger on gmqtt")):
        rates = [bench_ledger.N / run.seconds for run in runs[module]]
        cpu = median([run.cpu["workers"] * 1e6 / bench_ledger.N for run in runs[module]])
        rows.append(f"| {label} | {median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) |"
                    f" {cpu:.0f} | {median(rates) / only:.2f} |")
    rows.append(f"| apply only, in process (no MQTT) | {only:,.0f} | | 1.00 |")
    return rows


def run(n: int = N, rounds: int = ROUNDS, ledger: bool = True) -> str:
    found: dict[str, list[tuple[float, float]]] = {c: [] for c, _ in CLIENTS}
    with tempfile.TemporaryDirectory(prefix="bench-mqtt-") as tmp:
        for r in range(rounds):  # alternated, so the machine's moods fall on every client
            for client, _ in CLIENTS:
                found[client].append(one_run(Path(tmp) / str(r), client, n))
        whole = ledger_rows(Path(tmp), max(1, rounds - 1)) if ledger else []
    base = median([cpu for _, cpu in found["link"]])
    rows = ["| client | messages/s, median (range) | responder CPU µs a message | vs the ledger's |",
            "|---|---:|---:|---:|"]
    for client, label in CLIENTS:
        rates = [n / s for s, _ in found[client]]
        cpu = median([c for _, c in found[client]])
        rows.append(f"| {label} | {median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) |"
                    f" {cpu:.0f} | {cpu / base:.2f} |")
    return "\n".join([
        "## MQTT clients: what a message costs the ledger's client",
        "",
        "Command: `.venv/bin/python -m bench.bench_mqtt_clients`  ",
        f"Machine: {machine()}",
        "",
        f"{n:,} op-sized QoS 1 messages published by `mosquitto_pub -l` into a private Mosquitto;"
        " one client subscribed at QoS 1 answers each with a QoS 1 reply (an ack's size), which"
        " `mosquitto_sub -C` counts. Timed from the first publish to the last reply; the"
        " responder's CPU read from /proc the same way for each client. gmqtt raises when a"
        " publish finds no packet id free (the broker's receive maximum, 20 in flight by"
        " default) where paho queues it: its responder keeps such replies and sends each when a"
        " PUBACK frees an id (QueuingClient in bench/gmqtt_variant.py). No JSON parsing or"
        f" validation, no database: only the client's own work. Median of {rounds} alternated"
        " rounds.",
        "",
        *rows,
        "",
        *(["The ledger end to end: 10,000 sales from 100 kiosks, one op a message, through"
           " Mosquitto (the Ledger section's harness, `BENCH_LEDGER_BATCH=1`), `ledger serve`"
           " as shipped and with its link swapped for a gmqtt one (bench/gmqtt_variant.py: the"
           " calls ledger.service makes, no TLS or reconnect, for this measurement only);"
           f" exactly-once and every ack checked after each run. {max(1, rounds - 1)} alternated"
           " rounds each:", "",
           *whole, ""] if whole else []),
    ])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=N)
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--no-ledger", action="store_true", help="the clients' table only")
    args = ap.parse_args()
    print(run(args.messages, args.rounds, not args.no_ledger))
