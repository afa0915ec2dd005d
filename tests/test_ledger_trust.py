"""The ledger on a real Mosquitto against a kiosk that lies: lookups answered only on the asking
kiosk's own reply topic, ops past the contract's limits refused with a reason, an ack that
cannot be encoded losing no other ack of its batch. The ledger runs in this process (SQLite) so
its log is caplog's and one batch can be driven through its apply step for sure."""

import json
import logging
import queue
import time
import uuid

import pytest

from ledger.service import LedgerService, OpIn
from ledger.store import LedgerStore
from mqtt import limits, messages, topics
from mqtt.client import Incoming, MqttLink
from program.engine import DefaultProgram
from simulation.scenario import wait_for

CARD = "04A1B2C3D4E5F6"


def op(seq=1, total=1000):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": seq, "kind": "sale",
            "token": {"kind": "uid", "value": CARD}, "basket_id": f"b-{seq}", "currency": "EUR",
            "total_minor": total, "redeem": [], "created_at": "x", "program_version": 1}


class Listener:
    """A raw client reading one kiosk's acks and lookup replies (what that kiosk would get)."""

    def __init__(self, broker, kiosk):
        self.got: queue.Queue[Incoming] = queue.Queue()
        self.link = MqttLink(host=broker.host, port=broker.port, client_id=f"listen-{kiosk}",
                             clean_start=True, on_message=self.got.put)
        for topic in (topics.acks("store-1", kiosk), topics.lookup_reply("store-1", kiosk)):
            self.link.subscribe(topic, 1)
        self.link.start()
        assert self.link.subscribed.wait(10)

    def publish(self, topic, payload, **props):
        assert self.link.publish(topic, payload, **props)

    def take(self, timeout=5.0) -> list[Incoming]:
        """What arrived within ``timeout`` (waits the whole time: absence is the point)."""
        time.sleep(timeout)
        out = []
        while not self.got.empty():
            out.append(self.got.get())
        return out


@pytest.fixture
def ledger(broker, tmp_path):
    db = str(tmp_path / "ledger.db")
    LedgerStore(db).add_member("Ada", [CARD], member_id="ada", opening_balance=40)
    service = LedgerService(db, broker.host, broker.port, program=DefaultProgram())
    assert service.start()
    assert service.link.subscribed.wait(10)
    yield service
    service.stop()


@pytest.fixture
def kiosks(broker):
    made = {k: Listener(broker, k) for k in ("kiosk-1", "kiosk-2")}
    yield made
    for k in made.values():
        k.link.stop()


# By card: a kiosk's lookup by member id alone is refused (tests/test_ledger_proof.py).
LOOKUP = messages.encode("lookup_request", {"v": 1, "token": {"kind": "uid", "value": CARD}})


def test_shared_lookup_topic_never_answers_into_acks(ledger, kiosks, caplog):
    caplog.set_level(logging.WARNING, "ledger.service")
    k1, k2 = kiosks["kiosk-1"], kiosks["kiosk-2"]
    k1.publish(topics.LOOKUP, LOOKUP, response_topic=topics.acks("store-1", "kiosk-2"),
               correlation=b"steal")
    assert k2.take(1.5) == []  # nothing of Ada's lands in kiosk-2's acks
    assert "is not a kiosk's lookup-reply" in caplog.text
    k1.publish(topics.LOOKUP, LOOKUP, response_topic=topics.lookup_reply("store-1", "kiosk-1"),
               correlation=b"own")
    reply = k1.got.get(timeout=10)
    assert reply.topic == topics.lookup_reply("store-1", "kiosk-1") and reply.correlation == b"own"
    assert json.loads(reply.payload)["balance"] == 40


def test_kiosk_lookup_is_answered_on_its_own_reply_topic_only(ledger, kiosks, caplog):
    caplog.set_level(logging.WARNING, "ledger.service")
    k1, k2 = kiosks["kiosk-1"], kiosks["kiosk-2"]
    mine = topics.lookup("store-1", "kiosk-1")
    k1.publish(mine, LOOKUP, response_topic=topics.lookup_reply("store-1", "kiosk-2"),
               correlation=b"redirect")
    assert k2.take(1.5) == [] and k1.got.empty()
    assert "is not its own" in caplog.text
    k1.publish(mine, LOOKUP, correlation=b"c-1")  # no response topic: the ledger knows it
    reply = k1.got.get(timeout=10)
    assert reply.topic == topics.lookup_reply("store-1", "kiosk-1") and reply.correlation == b"c-1"
    assert json.loads(reply.payload)["member"]["id"] == "ada"


def test_ops_past_the_limits_are_refused_with_a_reason_and_nothing_is_lost(ledger, kiosks,
                                                                           caplog):
    caplog.set_level(logging.INFO)
    k1 = kiosks["kiosk-1"]
    ops_topic = topics.ops("store-1", "kiosk-1")
    k1.publish(ops_topic, json.dumps(op(seq=2**63)).encode())
    k1.publish(ops_topic, b'{"v":' + b"[" * 30000 + b"]" * 30000 + b"}")
    k1.publish(ops_topic, b'{"v":1,"items":' + b"[" * 40 + b"]" * 40 + b"}")
    good = op(seq=limits.KIOSK_SEQ)
    k1.publish(ops_topic, messages.encode("op", good))
    ack = json.loads(k1.got.get(timeout=10).payload)
    assert ack["op_id"] == good["op_id"] and ack["status"] == "applied"
    assert wait_for(lambda: caplog.text.count("bad message on") >= 3, 5), caplog.text
    assert "kiosk_seq must be smaller than or equal to 9223372036854775807" in caplog.text
    assert caplog.text.count("too deeply nested") == 2
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_ack_that_breaks_the_contract_costs_no_other_ack(ledger, kiosks, caplog):
    """One batch of three: the middle op earns more points than an ack may carry (a program
    loaded before `ledger program check` refused such programs)."""
    caplog.set_level(logging.ERROR, "ledger.service")
    ledger.fixed_program = DefaultProgram(points_per_unit=10**4)
    small, huge, after = op(1, 1000), op(2, limits.AMOUNT_MINOR), op(3, 2000)
    store = LedgerStore(ledger.db_path)
    try:  # straight into the apply step, so the three are one batch whatever the timing
        ledger._apply_batch(store, [OpIn("store-1", "kiosk-1", o) for o in (small, huge, after)])
    finally:
        store.close()
    acks = [json.loads(m.payload) for m in kiosks["kiosk-1"].take(1.5)]
    assert [a["op_id"] for a in acks] == [small["op_id"], after["op_id"]]
    assert [a["earned"] for a in acks] == [100_000, 200_000]
    assert f"ack for op {huge['op_id']} from store-1/kiosk-1 not sent" in caplog.text
    assert "earned must be smaller than or equal to" in caplog.text
