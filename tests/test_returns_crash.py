"""Refunds queued among sales survive a cut network and kill -9 of `kiosk run` mid-replay: after
the restart every op is applied exactly once, each refund takes back its points once, and the
same refunds published again by the POS afterwards change nothing."""

import json
import signal
import sqlite3
import subprocess
import sys
import uuid

from kiosk.outbox import Outbox
from kiosk.ports import Ports
from kiosk.returns import Returns
from mqtt import topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess, wait_for
from tests.daemon_conf import kiosk_toml

N = 1200  # sales; every fourth is followed by a refund of the one before it
TEA = {"sku": "tea", "qty": 2, "unit_minor": 500}  # 10 points a sale


def sale(i: int) -> dict:
    return {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kind": "sale",
        "token": {"kind": "uid", "value": f"04{i % 50:012X}"},
        "enrol": True,  # each card joined at the counter (its customer pressed select)
        "basket_id": f"b-{i}",
        "currency": "EUR",
        "total_minor": 1000,
        "items": [TEA],
        "earn": 10,
        "redeem": [],
        "created_at": "2026-01-01T00:00:00Z",
        "program_version": 1,
    }


def refund(i: int) -> dict:
    """Even baskets are refunded whole (10 points back), odd ones one tea of two (5)."""
    return {
        "v": 1,
        "refund_id": f"r-{i}",
        "basket_id": f"b-{i}",
        **({} if i % 2 == 0 else {"lines": [{"sku": "tea", "qty": 1}]}),
    }


def fill(path) -> list[dict]:
    """The kiosk's outbox as a long offline spell leaves it: sales and refunds interleaved."""
    box = Outbox(path)
    offline = Ports(publish=lambda *a, **k: False, show=lambda view: None)
    returns = Returns(box, "store-1", "lane-1", lambda body: True, offline)
    refunds = []
    for i in range(N):
        op = sale(i)
        box.add_many([(op, op["token"]["value"], 10)])
        if i % 4 == 3:
            refunds.append(refund(i - 1))
            returns.refund(refunds[-1], 1)
    box.close()
    return refunds


def ledger_counts(db) -> tuple[int, int]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
            return (
                c.execute("SELECT COUNT(*) FROM ops").fetchone()[0],
                c.execute("SELECT COUNT(*) FROM refunds").fetchone()[0],
            )
    except sqlite3.OperationalError:
        return 0, 0


def depth(path) -> int:
    box = Outbox(path)
    try:
        return box.depth()
    finally:
        box.close()


def queued_refunds(path) -> int:
    box = Outbox(path)
    try:
        return sum(op.body["kind"] == "refund" for op in box.pending(limit=10 * N))
    finally:
        box.close()


def test_refunds_in_the_outbox_survive_kill_9_mid_replay(broker, tmp_path):
    outbox = tmp_path / "outbox.db"
    refunds = fill(outbox)
    total = N + len(refunds)
    conf = kiosk_toml(tmp_path, broker.port, outbox, "retry_seconds = 2.0\n")
    ledger = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    ledger.cli("members")
    ledger.start()
    log = tmp_path / "kiosk.log"
    cmd = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)]
    kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: ledger_counts(ledger.db)[1] >= len(refunds) // 4, 90), (
            log.read_text()[-2000:]
        )
        broker.stop()  # the network goes, and then the kiosk dies with it
        kiosk.send_signal(signal.SIGKILL)
        kiosk.wait(10)
        left = depth(outbox)
        assert 0 < left < total, f"the kill did not land mid-replay ({left} left)"
        assert queued_refunds(outbox) > 0
        broker.start()
        kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        assert wait_for(lambda: ledger_counts(ledger.db) == (total, len(refunds)), 120), (
            ledger_counts(ledger.db)
        )
        assert wait_for(lambda: depth(outbox) == 0, 30)
        # The POS sends some refunds again: the kiosk makes the same ops, the ledger repeats.
        pos = MqttLink(host=broker.host, port=broker.port, client_id="pos", clean_start=True)
        pos.start()
        assert pos.wait_connected(10)
        for body in refunds[:20]:
            pos.publish(topics.refund("store-1", "lane-1"), json.dumps(body).encode(), 1)
        assert wait_for(lambda: "refund r-78 of basket b-78 queued" in log.read_text(), 20)
        assert wait_for(lambda: depth(outbox) == 0, 30)
        pos.stop()
        assert ledger_counts(ledger.db) == (total, len(refunds))  # answered as duplicates
    finally:
        kiosk.terminate()
        kiosk.wait(30)
        ledger.stop()
    with sqlite3.connect(ledger.db) as c:
        counts = c.execute(
            "SELECT COUNT(*), COUNT(DISTINCT op_id), -SUM(points) FROM journal WHERE kind='refund'"
        ).fetchone()
        balance = c.execute("SELECT SUM(points) FROM journal").fetchone()[0]
    whole = sum(1 for r in refunds if "lines" not in r)
    assert counts == (len(refunds), len(refunds), whole * 10 + (len(refunds) - whole) * 5)
    assert balance == N * 10 - counts[2]
