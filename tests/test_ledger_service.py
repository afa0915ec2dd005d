"""`ledger serve` as a real process on a real Mosquitto: duplicate deliveries, bad payloads, two
workers sharing one broker, a broker that drops queued messages, and kill -9 mid-replay. The
tests taking ``ledger_db`` run on SQLite and on a private PostgreSQL cluster."""

import json
import logging
import queue
import time
import uuid

import pytest

from kiosk.outbox import Outbox
from ledger.store import LedgerStore
from mqtt import messages, topics
from mqtt.client import Incoming, MqttLink
from simulation.local_broker import Mosquitto
from simulation.scenario import LedgerProcess, wait_for
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

CARD = "04A1B2C3D4E5F6"


def op(seq=1, total=1000, card=CARD):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": seq, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": f"b-{seq}", "currency": "EUR",
            "total_minor": total, "earn": total // 100, "redeem": [], "created_at": "x",
            "program_version": 1}


class Peer:
    """A raw MQTT client playing a kiosk: publishes ops, collects acks."""

    def __init__(self, broker, kiosk="kiosk-1"):
        self.acks: queue.Queue = queue.Queue()
        self.link = MqttLink(host=broker.host, port=broker.port, client_id=f"peer-{kiosk}",
                             clean_start=True, on_message=self._got)
        self.link.subscribe(topics.acks("store-1", kiosk), 1)
        self.link.subscribe(topics.lookup_reply("store-1", kiosk), 1)
        self.kiosk = kiosk
        self.link.start()
        assert self.link.subscribed.wait(10)

    def _got(self, msg: Incoming):
        self.acks.put(msg)

    def send_op(self, body: dict | bytes):
        payload = body if isinstance(body, bytes) else messages.encode("op", body)
        assert self.link.publish(topics.ops("store-1", self.kiosk), payload)

    def next_ack(self, timeout=10.0) -> dict:
        return json.loads(self.acks.get(timeout=timeout).payload)


@pytest.fixture
def ledger(broker, tmp_path, ledger_db):
    led = LedgerProcess(ledger_db, broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    led.start()
    yield led
    led.stop()


def journal(led, who="ada"):
    return json.loads(led.cli("history", who, "--json"))


def test_same_op_twice_one_entry_equal_acks(broker, ledger):
    peer = Peer(broker)
    body = op(total=2500)
    peer.send_op(body)
    first = peer.next_ack()
    peer.send_op(body)  # a retransmit after a lost ack
    second = peer.next_ack()
    assert first["status"] == "applied" and second["status"] == "duplicate"
    assert {**first, "status": "x"} == {**second, "status": "x"}
    assert first["earned"] == 25 and first["balance"] == 25
    assert [e["op_id"] for e in journal(ledger)] == [body["op_id"]]
    peer.link.stop()


BAD_OPS = [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not"),
    (b"[]", "expected a JSON object"),
    (json.dumps({"op_id": "nope", "kind": "sale"}).encode(), "must contain"),
    (json.dumps({**op(), "op_id": "1234"}).encode(), "must match pattern"),
    (json.dumps({**op(), "earn": "ten"}).encode(), "must be integer"),
    (json.dumps({**op(), "surprise": 1}).encode(), "must not contain"),
    (b'{"a":"' + b"x" * 70000 + b'"}', "exceeds"),
]


def test_bad_payloads_are_logged_and_the_ledger_keeps_working(broker, ledger, tmp_path,
                                                               ledger_db):
    peer = Peer(broker)
    for payload, _ in BAD_OPS:
        peer.send_op(payload)
    # A lookup without a response topic, and one with junk, on the shared lookup topic.
    peer.link.publish(topics.LOOKUP, messages.encode("lookup_request", {"v": 1, "member_id": "ada"}))
    peer.link.publish(topics.LOOKUP, b"{{{", response_topic=topics.lookup_reply("store-1", "kiosk-1"))
    # Wrong ids in the topic itself: not a kiosk the ledger can answer.
    peer.link.publish("loyalty/v1/stores/STORE/kiosks/k/ops", messages.encode("op", op()))
    log = tmp_path / "ledger.log"
    assert wait_for(lambda: log.read_text().count("bad message on") >= len(BAD_OPS) + 2, 10), \
        log.read_text()[-3000:]
    text = log.read_text()
    for _, words in BAD_OPS:
        assert words in text
    assert "no valid response topic" in text and "not JSON" in text
    good = op()
    peer.send_op(good)
    assert peer.next_ack()["op_id"] == good["op_id"]
    assert LedgerStore(ledger_db).op_count() == 1  # nothing else was written
    assert ledger.proc.poll() is None
    peer.link.stop()


def test_two_workers_share_the_broker_and_apply_each_op_once(broker, tmp_path, ledger_db):
    db = ledger_db
    a = LedgerProcess(db, broker, tmp_path / "a.log", worker="a")
    b = LedgerProcess(db, broker, tmp_path / "b.log", worker="b")
    a.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    a.start()
    b.start()
    peer = Peer(broker)
    bodies = [op(seq=i + 1, total=100) for i in range(200)]
    for body in bodies + bodies[::3]:  # every third op delivered twice
        peer.send_op(body)
    acks = [peer.next_ack(20) for _ in range(len(bodies) + len(bodies[::3]))]
    a.stop()
    b.stop()
    assert {x["op_id"] for x in acks} == {x["op_id"] for x in bodies}
    assert sum(x["status"] == "duplicate" for x in acks) == len(bodies[::3])
    store = LedgerStore(db)
    assert store.op_count() == 200 and store.balance("ada") == 200
    applied = [int((tmp_path / f"{w}.log").read_text().split("after applying ")[-1].split()[0])
               for w in ("a", "b")]
    assert all(n > 0 for n in applied), applied  # the shared subscription split the load
    peer.link.stop()


def prefill(path, n, card=CARD):
    box = Outbox(path)
    box.add_many([(op(seq=i + 1, total=100, card=card), f"card:{card}", 1) for i in range(n)])
    box.close()


def test_ledger_killed_mid_replay_every_op_applied_once(broker, tmp_path, ledger_db):
    n = 1500
    cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 16, "retry_seconds": 2.0})
    prefill(cfg["outbox"]["path"], n)
    led = LedgerProcess(ledger_db, broker, tmp_path / "ledger.log")
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    led.start()
    reader = LedgerStore(ledger_db)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: reader.op_count() >= 100, 30)
        led.kill()  # kill -9 while ops and acks are in flight
        at_kill = reader.op_count()
        assert at_kill < n, "the replay finished before the kill: the test proved nothing"
        led.start()
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 120), kiosk.outbox_depth()
    finally:
        kiosk.stop()
        led.stop()
    assert reader.op_count() == n
    history = reader.history("ada")
    assert len(history) == n and len({e["op_id"] for e in history}) == n
    assert reader.balance("ada") == n


@pytest.mark.parametrize("serve_args, limit", [(("--no-batches",), 5), ((), 2)],
                         ids=["single-ops", "batches"])
def test_retransmit_covers_a_broker_dropping_queued_ops(tmp_path, caplog, serve_args, limit):
    """Mosquitto drops QoS 1 messages past max_queued_messages for an offline session: the
    kiosk's own resend must get every op through anyway. With batches, the 40 ops travel in
    three messages (a window of 64 cut in four), so the broker keeps only two of them."""
    broker = Mosquitto(tmp_path / "broker", extra_conf=f"max_queued_messages {limit}")
    broker.conf.write_text(broker.conf.read_text().replace("max_queued_messages 100000\n", ""))
    broker.start()
    led = LedgerProcess(tmp_path / "ledger.db", broker, tmp_path / "ledger.log",
                        serve_args=serve_args)
    led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
    led.start()
    led.kill()  # its persistent session stays on the broker, queueing at most 5 messages
    n = 40
    cfg = sim_config(broker.port, tmp_path, outbox={"retry_seconds": 1.0})
    prefill(cfg["outbox"]["path"], n)
    caplog.set_level(logging.INFO)
    kiosk = SimulatedKiosk(cfg).start()
    try:
        assert wait_for(lambda: len(kiosk.app.session.replayer.inflight) == n, 10)
        time.sleep(0.5)
        led.start()
        assert wait_for(lambda: kiosk.outbox_depth() == 0, 60), kiosk.outbox_depth()
    finally:
        kiosk.stop()
        led.stop()
        broker.stop()
    assert "resending op" in caplog.text
    store = LedgerStore(tmp_path / "ledger.db")
    assert store.op_count() == n and store.balance("ada") == n


def test_lookup_answers_on_the_response_topic(broker, ledger):
    peer = Peer(broker)
    assert peer.link.publish(topics.LOOKUP, messages.encode("lookup_request", {
        "v": 1, "token": {"kind": "uid", "value": CARD}}),
        response_topic=topics.lookup_reply("store-1", "kiosk-1"), correlation=b"c-1")
    msg = peer.acks.get(timeout=10)
    reply = messages.decode("lookup_reply", msg.payload)
    assert msg.correlation == b"c-1" and reply["found"] and reply["member"]["id"] == "ada"
    peer.link.stop()


def test_postgresql_crash_mid_replay_every_op_applied_once(broker, tmp_path):
    """PostgreSQL stops the hard way while ops are in flight: the ledger reports the lost
    connection, reconnects when the server is back, and every op is applied exactly once."""
    from ledger import db
    from simulation.local_postgres import LocalPostgres, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    cluster = LocalPostgres(fsync=True).start()
    n = 1500
    try:
        url = cluster.database()
        db.upgrade(url)
        cfg = sim_config(broker.port, tmp_path, outbox={"inflight": 16, "retry_seconds": 2.0})
        prefill(cfg["outbox"]["path"], n)
        led = LedgerProcess(url, broker, tmp_path / "ledger.log")
        led.cli("members", "add", "--name", "Ada", "--card", CARD, "--id", "ada")
        led.start()
        kiosk = SimulatedKiosk(cfg).start()
        try:
            assert wait_for(lambda: _count(url) >= 100, 30)
            cluster.crash()
            assert kiosk.outbox_depth() > 0, "the replay finished before the crash"
            assert wait_for(lambda: "database error" in (tmp_path / "ledger.log").read_text(), 20)
            cluster.start_server()
            assert wait_for(lambda: kiosk.outbox_depth() == 0, 120), kiosk.outbox_depth()
        finally:
            kiosk.stop()
            led.stop()
        assert "reconnecting" in (tmp_path / "ledger.log").read_text()
        store = LedgerStore(url)
        history = store.history("ada")
        assert store.op_count() == n and len({e["op_id"] for e in history}) == len(history) == n
        assert store.balance("ada") == n
        store.close()
    finally:
        cluster.stop()


def _count(url) -> int:
    store = LedgerStore(url, readonly=True)
    try:
        return store.op_count()
    finally:
        store.close()

