"""kill -9 of a running `kiosk run` right after it logged "points added": after a restart the
op is replayed and the ledger applies it exactly once; the retained 'paid' basket the restarted
kiosk sees again makes no second op."""

import json
import signal
import subprocess
import sys
import time

import pytest

from drivers.sim_control import send
from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess, wait_for
from tests.daemon_conf import kiosk_toml

CARD = "04A1B2C3D4E5F6"


def kiosk_conf(tmp_path, port):
    return kiosk_toml(tmp_path, port, tmp_path / "outbox.db",
                      f'retry_seconds = 2.0\n[reader]\ndriver = "sim"\npath = "{tmp_path}/control.sock"\n')


def start_kiosk(conf, log):
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
                            stdout=log, stderr=subprocess.STDOUT)
    return proc


def log_has(path, text):
    return text in path.read_text(errors="replace")


@pytest.fixture
def ledger(broker, tmp_path):
    led = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--balance", "10")
    yield led
    led.stop()


def queue_cmd(conf, action):
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "queue", action, "--config",
                          str(conf)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def basket(seq, status):
    return messages.encode("basket", {"v": 1, "basket_id": "b-42", "seq": seq, "status": status,
                                      "currency": "EUR", "total_minor": 2000})


def test_kill_9_after_points_added_applies_once(broker, ledger, tmp_path):
    conf = kiosk_conf(tmp_path, broker.port)
    log = tmp_path / "kiosk.log"
    statuses = []
    pos = MqttLink(host=broker.host, port=broker.port, client_id="pos", clean_start=True,
                   on_message=lambda m: m.payload and statuses.append(json.loads(m.payload)))
    pos.subscribe(topics.status("store-1", "kiosk-1"), 1)
    pos.start()
    assert pos.wait_connected(10)
    # The ledger is down while the sale happens, so the op is only on the kiosk's disk.
    kiosk = start_kiosk(conf, open(log, "ab"))
    try:
        assert wait_for(lambda: log_has(log, "connected to"), 20)
        pos.publish(topics.basket("store-1", "lane-1"), basket(1, "open"), retain=True)
        time.sleep(0.3)
        send(str(tmp_path / "control.sock"), f"tap {CARD}")
        time.sleep(0.5)
        pos.publish(topics.basket("store-1", "lane-1"), basket(2, "paid"), retain=True)
        assert wait_for(lambda: log_has(log, "points added: basket b-42"), 20), log.read_text()
        kiosk.send_signal(signal.SIGKILL)
        kiosk.wait(10)
        # The broker published the kiosk's last will on its retained status topic.
        assert wait_for(lambda: statuses and statuses[-1]["state"] == "offline", 10), statuses
        # The op waits on disk: a technician can see and export it while the kiosk is down.
        assert queue_cmd(conf, "count").startswith("1 queued")
        exported = json.loads(queue_cmd(conf, "export"))
        assert exported["kiosk_seq"] == 1 and exported["basket_id"] == "b-42"
        assert exported["earn"] == 20 and exported["op_id"] in queue_cmd(conf, "list")

        ledger.start()
        kiosk = start_kiosk(conf, open(log, "ab"))
        assert wait_for(lambda: ledger.balance(CARD) == 30, 30), ledger.balance(CARD)
        # Restarted kiosk saw the retained paid basket again: still exactly one op applied.
        time.sleep(3)
        assert ledger.balance(CARD) == 30
        history = json.loads(ledger.cli("history", CARD, "--json"))
        entries = history if isinstance(history, list) else history.get("entries", [])
        earns = [e for e in entries if e.get("kind") == "earn"]
        assert len(earns) == 1, entries
        assert queue_cmd(conf, "count").startswith("0 queued")
    finally:
        kiosk.terminate()
        kiosk.wait(10)
        pos.stop()
