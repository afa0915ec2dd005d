"""Paid baskets with no member queued among sales survive a cut network and kill -9 of `kiosk
run` mid-replay: after the restart every basket the kiosk saw is one row of the ledger's facts,
with or without its member, and the points are those of the sales alone."""

import signal
import sqlite3
import subprocess
import sys

from kiosk import ops
from kiosk.outbox import Outbox
from simulation.scenario import LedgerProcess, wait_for
from tests.daemon_conf import kiosk_toml
from tests.test_returns_crash import TEA, sale

N = 1200  # ops; every other one is a basket paid with no member attached
STAMP = ops.Stamp(
    "2026-01-01T00:00:00.000+00:00", offline=True, clock_synced=True, program_version=1
)


def basket(i: int) -> dict:
    body = {"basket_id": f"b-{i}", "currency": "EUR", "total_minor": 1000 + i, "items": [TEA]}
    return ops.basket_op(body, STAMP, "lane-1")


def fill(path) -> None:
    """The kiosk's outbox as a long offline spell leaves it: sales and member-less baskets."""
    box = Outbox(path)
    for i in range(N):
        if i % 2:
            box.settle(f"b-{i}", "paid", basket(i))
        else:
            op = sale(i)
            box.add_many([(op, op["token"]["value"], 10)])
    box.close()


def facts(db) -> tuple[int, int]:
    """Rows of ``baskets``, and of those the ones with no member."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
            return c.execute("SELECT COUNT(*), COUNT(*) - COUNT(member_id) FROM baskets").fetchone()
    except sqlite3.OperationalError:
        return 0, 0


def depth(path) -> int:
    box = Outbox(path)
    try:
        return box.depth()
    finally:
        box.close()


def test_member_less_baskets_in_the_outbox_survive_kill_9_mid_replay(broker, tmp_path):
    outbox = tmp_path / "outbox.db"
    fill(outbox)
    conf = kiosk_toml(tmp_path, broker.port, outbox, "retry_seconds = 2.0\n")
    ledger = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    ledger.cli("members")
    ledger.start()
    log = tmp_path / "kiosk.log"
    cmd = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)]
    kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: facts(ledger.db)[0] >= N // 4, 90), log.read_text()[-2000:]
        broker.stop()  # the network goes, and then the kiosk dies with it
        kiosk.send_signal(signal.SIGKILL)
        kiosk.wait(10)
        left = depth(outbox)
        assert 0 < left < N, f"the kill did not land mid-replay ({left} left)"
        broker.start()
        kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        assert wait_for(lambda: facts(ledger.db) == (N, N // 2), 120), facts(ledger.db)
        assert wait_for(lambda: depth(outbox) == 0, 30)
    finally:
        kiosk.terminate()
        kiosk.wait(30)
        ledger.stop()
    with sqlite3.connect(ledger.db) as c:
        rows = c.execute(
            "SELECT COUNT(DISTINCT basket_id), SUM(total_minor) FROM baskets"
            " WHERE member_id IS NULL"
        ).fetchone()
        lines = c.execute("SELECT COUNT(*), SUM(qty) FROM basket_lines").fetchone()
        points = c.execute("SELECT SUM(points) FROM journal").fetchone()[0]
    assert rows == (N // 2, sum(1000 + i for i in range(1, N, 2)))
    assert lines == (N, 2 * N)  # one tea line of two per basket, sale or not
    assert points == (N // 2) * 10  # the member-less baskets moved no points
