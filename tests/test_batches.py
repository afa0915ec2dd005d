"""Contract v1.2: ops and acks several to a message, and the ledger's capabilities message.

Real parts: a private Mosquitto, `ledger serve` processes on SQLite, simulated kiosks and
`kiosk run`; a recorder on the broker sees what crossed the wire, in which form."""

import json
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest

from kiosk.outbox import Outbox
from mqtt import batches, limits, messages, topics
from mqtt.client import MqttLink
from simulation.scenario import LedgerProcess, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config
from tests.daemon_conf import kiosk_toml

CARD = "04A1B2C3D4E5F6"


def op(seq=1, card=CARD, **over):
    body = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": seq,
        "kind": "sale",
        "token": {"kind": "uid", "value": card},
        "basket_id": f"b-{seq}",
        "currency": "EUR",
        "total_minor": 1000,
        "earn": 10,
        "redeem": [],
        "created_at": "x",
        "program_version": 1,
    }
    return {**body, **over}


def batch(*ops) -> bytes:
    return json.dumps({"v": 1, "ops": list(ops)}).encode()


class Wire:
    """Every message on the ops, acks and capabilities topics, as (topic, payload)."""

    def __init__(self, broker, name="wire"):
        self.seen: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.link = MqttLink(
            host=broker.host,
            port=broker.port,
            client_id=name,
            clean_start=True,
            on_message=self._got,
        )
        for topic in (topics.ALL_OPS, f"{topics.ROOT}/stores/+/kiosks/+/acks", topics.CAPABILITIES):
            self.link.subscribe(topic, 1)
        self.link.start()
        assert self.link.subscribed.wait(10)

    def _got(self, msg):
        with self._lock:
            self.seen.append((msg.topic, msg.payload))

    def on(self, leaf: str, kiosk: str = "kiosk-1") -> list[dict]:
        with self._lock:
            return [json.loads(p) for t, p in self.seen if t.endswith(f"kiosks/{kiosk}/{leaf}")]

    def capabilities(self) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.seen if t == topics.CAPABILITIES]


class Peer:
    """A raw kiosk on its own topics: publishes payloads, collects ack messages."""

    def __init__(self, broker, kiosk):
        self.kiosk, self.got = kiosk, queue.Queue()
        self.link = MqttLink(
            host=broker.host,
            port=broker.port,
            client_id=f"peer-{kiosk}",
            clean_start=True,
            on_message=lambda m: self.got.put(m.payload),
        )
        self.link.subscribe(topics.acks("store-1", kiosk), 1)
        self.link.start()
        assert self.link.subscribed.wait(10)

    def send(self, payload: bytes):
        assert self.link.publish(topics.ops("store-1", self.kiosk), payload)

    def next(self, timeout=15.0) -> dict:
        return json.loads(self.got.get(timeout=timeout))


@pytest.fixture
def ledger(broker, tmp_path):
    led = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    led.start()
    yield led
    led.stop()


def applied_ids(db) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return [r[0] for r in c.execute("SELECT op_id FROM journal WHERE kind='earn'")]


def prefill(path, n, card=CARD) -> list[dict]:
    ops = [op(seq=i + 1, card=card) for i in range(n)]
    box = Outbox(path)
    box.add_many([(o, f"card:{card}", 10) for o in ops])
    box.close()
    return ops


# -- the messages --------------------------------------------------------------------------------
def test_one_bad_op_in_a_batch_is_refused_alone():
    good, bad = op(1), op(2, kind="bogus")
    got = batches.decode_ops(batch(good, bad, op(3)))
    assert got.batched and [o["kiosk_seq"] for o in got.ops] == [1, 3]
    [(op_id, reason)] = got.refused
    assert op_id == bad["op_id"] and "ops[1]" in reason and "kind" in reason


def test_a_batch_op_without_a_usable_op_id_sinks_the_message():
    with pytest.raises(messages.BadMessage, match="without a valid op_id"):
        batches.decode_ops(batch(op(1), {"op_id": "not-a-uuid", "kind": "sale"}))


def test_a_v1_ledger_reads_a_batch_as_a_bad_op():
    with pytest.raises(messages.BadMessage, match="op: "):
        batches.decode_ops(batch(op(1), op(2)), batches=False)


def test_batches_stay_within_the_payload_and_count_limits():
    big = messages.encode("op", op(1, items=[{"sku": "s" * 60, "qty": 1, "unit_minor": 1}] * 60))
    groups = batches.pack("op_batch", [big] * 40)
    assert sum(len(g) for g in groups) == 40 and len(groups) > 1
    for group in groups:
        payload = batches.join("op_batch", group)
        assert len(payload) <= limits.PAYLOAD_BYTES
        assert len(batches.decode_ops(payload).ops) == len(group)
    small = [messages.encode("op", op(i + 1)) for i in range(250)]
    assert [len(g) for g in batches.pack("op_batch", small)] == [100, 100, 50]


def test_capabilities_round_trip_and_a_cleared_message_means_single_ops():
    assert batches.batch_limit(batches.capabilities()) == limits.OPS_PER_BATCH
    assert batches.batch_limit(b"") == 1
    with pytest.raises(messages.BadMessage):
        batches.batch_limit(b'{"v":1,"contract":"1.2","max_ops_per_batch":0}')


# -- the ledger -----------------------------------------------------------------------------------
def test_ledger_rejects_only_the_bad_op_of_a_batch(broker, ledger):
    peer = Peer(broker, "kiosk-1")
    ops = [op(1), op(2, kind="bogus"), op(3)]
    peer.send(batch(*ops))
    msg = peer.next()
    assert set(msg) == {"v", "acks"}, "asked in a batch, answered in a batch"
    status = {a["op_id"]: a for a in msg["acks"]}
    assert [status[o["op_id"]]["status"] for o in ops] == ["applied", "rejected", "applied"]
    assert "kind" in status[ops[1]["op_id"]]["reason"]
    assert status[ops[2]["op_id"]]["balance"] == 20
    assert sorted(applied_ids(ledger.db)) == sorted([ops[0]["op_id"], ops[2]["op_id"]])


def test_v1_and_batch_kiosks_side_by_side(broker, ledger, tmp_path):
    wire = Wire(broker)
    old = Peer(broker, "kiosk-2")  # a contract v1.0 kiosk: one op per message
    old_ops = [op(i + 1) for i in range(20)]
    cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 64, "retry_seconds": 30.0})
    new_ops = prefill(cfg["outbox"]["path"], 300)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        for o in old_ops:
            old.send(messages.encode("op", o))
        old_acks = [old.next() for _ in old_ops]
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 60), kiosk.outbox_depth()
    finally:
        kiosk.stop()
    assert [a["op_id"] for a in old_acks] == [o["op_id"] for o in old_ops]
    assert all(a["status"] == "applied" and "acks" not in a for a in old_acks)
    sent = wire.on("ops")
    batched = [m for m in sent if "ops" in m]
    # Until the retained capabilities message reaches it (it may connect and replay first on a
    # loaded machine) a new kiosk sends single ops, and a window with room for one op sends it
    # alone; the bulk of the backlog travels in batches of at most a quarter window.
    singles = len(sent) - len(batched)
    assert max(len(m["ops"]) for m in batched) == 16  # window 64 / 4
    assert sum(len(m["ops"]) for m in batched) == 300 - singles >= 150, f"{singles} singles"
    single_acks = [m for m in wire.on("acks") if "acks" not in m]
    assert len(single_acks) <= singles, (singles, single_acks[:3])
    ids = applied_ids(ledger.db)
    assert len(ids) == len(set(ids)) == 320
    assert set(ids) == {o["op_id"] for o in old_ops + new_ops}


def test_new_kiosk_and_a_v1_ledger_speak_single_ops(broker, tmp_path):
    led = LedgerProcess(
        tmp_path / "ledger.db", broker, tmp_path / "ledger.log", serve_args=("--no-batches",)
    )
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    led.start()
    wire = Wire(broker)
    cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 64, "retry_seconds": 30.0})
    ops = prefill(cfg["outbox"]["path"], 100)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 60), kiosk.outbox_depth()
    finally:
        kiosk.stop()
        led.stop()
    assert wire.capabilities() == [], "a v1.0 ledger announces nothing"
    sent = wire.on("ops")
    assert len(sent) == 100 and all("ops" not in m for m in sent)
    assert len(wire.on("acks")) == 100 and all("acks" not in m for m in wire.on("acks"))
    assert sorted(applied_ids(led.db)) == sorted(o["op_id"] for o in ops)


def test_ledger_killed_mid_batch_applies_each_op_once(broker, ledger, tmp_path):
    wire = Wire(broker)
    n = 3000
    cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 256, "retry_seconds": 2.0})
    ops = prefill(cfg["outbox"]["path"], n)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: len(applied_ids(ledger.db)) >= 200, 30)
        ledger.kill()  # kill -9 with batches in flight both ways
        assert len(applied_ids(ledger.db)) < n, "the replay finished before the kill"
        ledger.start()
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 120), kiosk.outbox_depth()
    finally:
        kiosk.stop()
    assert any(len(m.get("ops", ())) == 64 for m in wire.on("ops"))
    ids = applied_ids(ledger.db)
    assert len(ids) == len(set(ids)) == n and set(ids) == {o["op_id"] for o in ops}


def test_kiosk_killed_mid_replay_applies_each_op_once(broker, ledger, tmp_path):
    wire = Wire(broker)
    n = 4000
    conf = kiosk_toml(tmp_path, broker.port, tmp_path / "outbox.db", "retry_seconds = 5.0\n")
    ops = prefill(tmp_path / "outbox.db", n)
    log = tmp_path / "kiosk.log"
    cmd = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)]
    kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: len(applied_ids(ledger.db)) >= n // 10, 60), log.read_text()[-2000:]
        kiosk.send_signal(signal.SIGKILL)
        kiosk.wait(10)
        assert len(applied_ids(ledger.db)) < n, "the replay finished before the kill; raise n"
        kiosk = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        assert wait_for(lambda: len(applied_ids(ledger.db)) == n, 120), len(applied_ids(ledger.db))
    finally:
        kiosk.terminate()
        kiosk.wait(30)
    assert any("ops" in m for m in wire.on("ops")), "the kiosk sent batches"
    ids = applied_ids(ledger.db)
    assert len(ids) == len(set(ids)) == n and set(ids) == {o["op_id"] for o in ops}
