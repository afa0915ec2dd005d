"""SIGTERM to `kiosk run` while it replays a backlog: it drains and exits 0, replaces its last
will with a clean "offline" status carrying its queue depth, and after a restart every op is
applied exactly once."""

import json
import signal
import sqlite3
import subprocess
import sys
import uuid

from kiosk.outbox import Outbox
from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess, wait_for
from tests.daemon_conf import kiosk_toml

N = 4000


def op(i: int) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": i + 1, "kind": "sale",
            "token": {"kind": "uid", "value": f"04{i % 50:012X}"}, "basket_id": f"b-{i}",
            "currency": "EUR", "total_minor": 1000, "earn": 10, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1,
            "enrol": True}  # customers who chose to join: their first sale enrols them


def applied(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
            return c.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def outbox_depth(path) -> int:
    box = Outbox(path)  # a fresh count: Outbox caches its own depth
    try:
        return box.depth()
    finally:
        box.close()


def retained_status(broker) -> dict | None:
    got = {}
    link = MqttLink(host=broker.host, port=broker.port, client_id="status-probe", clean_start=True,
                    on_message=lambda m: got.setdefault("s", json.loads(m.payload)))
    link.subscribe(topics.status("store-1", "kiosk-1"), 1)
    link.start()
    wait_for(lambda: "s" in got, 5)
    link.stop()
    return got.get("s")


def test_sigterm_during_replay_loses_nothing(broker, tmp_path):
    conf = kiosk_toml(tmp_path, broker.port, tmp_path / "outbox.db", "retry_seconds = 5.0\n")
    ops = [op(i) for i in range(N)]
    box = Outbox(tmp_path / "outbox.db")
    box.add_many([(o, o["token"]["value"], 10) for o in ops])
    box.close()
    ledger = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    ledger.cli("members")
    ledger.start()
    log = tmp_path / "kiosk.log"
    cmd = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)]
    kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: applied(ledger.db) >= N // 10, 60), log.read_text()[-2000:]
        kiosk.send_signal(signal.SIGTERM)
        assert kiosk.wait(30) == 0, log.read_text()[-2000:]
        left = outbox_depth(tmp_path / "outbox.db")
        assert 0 < left < N, f"SIGTERM did not land mid-replay ({left} left); raise N"
        status = retained_status(broker)
        assert status and status["state"] == "offline" and status["queue_depth"] >= 0, status

        kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        assert wait_for(lambda: applied(ledger.db) == N, 120), applied(ledger.db)
        assert wait_for(lambda: outbox_depth(tmp_path / "outbox.db") == 0, 30)
    finally:
        kiosk.terminate()
        kiosk.wait(30)
        ledger.stop()
    with sqlite3.connect(ledger.db) as c:
        ids = {r[0] for r in c.execute("SELECT op_id FROM ops")}
        earns = c.execute("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM journal"
                          " WHERE kind='earn'").fetchone()
    assert ids == {o["op_id"] for o in ops}
    assert earns == (N, N)
