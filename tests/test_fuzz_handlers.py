"""A buggy POS or peer cannot knock the kiosk or the ledger over.

Thousands of broken and noisy payloads on every topic each program subscribes to, driven
through the real handlers: the kiosk's MQTT entry point (KioskApp._on_message) and its event
loop step (_handle, _after_batch) on a private broker, the ledger's message handler and its
apply and lookup steps in-process on SQLite. No log record may carry a traceback, nothing may
raise, and the op queued before the fuzz is still queued, unchanged. Then one real `kiosk run`
process takes a few hundred mutated payloads on its lane topics and stays up with its op.
"""

import json
import logging
import random
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.base import ButtonPressed, Token, TokenRead
from drivers.sim_control import send
from kiosk import events as e
from kiosk.app import Devices, KioskApp
from ledger.service import LedgerService, lookup_reply
from ledger.store import LedgerStore
from mqtt import messages, topics
from mqtt.client import Incoming, MqttLink
from simulation.simulated_kiosk import sim_config
from tests import fuzz_payloads as fp
from tests.daemon_conf import kiosk_toml

FUZZ = settings(
    max_examples=1500, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def tracebacks(records: list[logging.LogRecord]) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info)}"
        for r in records
        if r.exc_info
    ]


# -- the kiosk -----------------------------------------------------------------------------------
@pytest.fixture
def kiosk(broker, tmp_path):
    app = KioskApp(sim_config(broker.port, tmp_path), Devices())
    app._open()  # the outbox, devices and session, as run() opens them (no event loop here)
    app.link.start()
    assert app.link.wait_connected(10)
    app.session.handle(e.BasketUpdate(messages.validate("basket", fp.good_basket())))
    app.session.handle(TokenRead(Token("uid", "04A1B2C3D4E5F6", "sim")))
    app.session.handle(e.BasketUpdate(messages.validate("basket", fp.good_basket(2, "paid"))))
    (queued,) = app.outbox.pending()
    yield app, queued
    app.link.stop()
    app.outbox.close()


def kiosk_step(app: KioskApp, topic: str, payload: bytes, correlation: bytes | None) -> int:
    """What paho's thread and the session's loop do with one message; how many events."""
    app._on_message(Incoming(topic, payload, correlation=correlation))
    handled = 0
    while not app.events.empty():
        app._handle(app.events.get_nowait())
        handled += 1
    app._after_batch()
    return handled


KIOSK_TOPICS = {
    "basket": fp.good_basket(),
    "acks": fp.good_ack(),
    "lookup-reply": fp.good_lookup_reply(),
    "program": {"v": 1},
    "uplink": {},
}


def kiosk_topic(leaf: str) -> str:
    return {
        "basket": topics.basket("store-1", "lane-1"),
        "acks": topics.acks("store-1", "kiosk-1"),
        "lookup-reply": topics.lookup_reply("store-1", "kiosk-1"),
        "program": topics.PROGRAM,
        "uplink": topics.uplink("store-1"),
    }[leaf]


kiosk_messages = st.sampled_from(sorted(KIOSK_TOPICS)).flatmap(
    lambda leaf: st.tuples(
        st.just(leaf),
        fp.payloads(KIOSK_TOPICS[leaf])
        if KIOSK_TOPICS[leaf]
        else st.one_of(st.sampled_from([b"0", b"1", b""]), st.binary(max_size=8)),
    )
)
actions = st.sampled_from(["tap", "select", "next", "cancel", "none", "none", "none"])


def test_no_kiosk_payload_raises_logs_a_traceback_or_loses_the_queued_op(kiosk, caplog):
    app, queued = kiosk
    caplog.set_level(logging.DEBUG)
    seen = {"messages": 0, "events": 0}

    @FUZZ
    @given(message=kiosk_messages, action=actions, answer_current=st.booleans())
    def one(message, action, answer_current):
        leaf, payload = message
        c = app.session.customer
        correlation = c.lookup_id.encode() if answer_current and c and c.lookup_id else b"x"
        if action == "tap":
            app.session.handle(TokenRead(Token("uid", "04DEADBEEF0001", "sim")))
        elif action != "none":
            app.session.handle(ButtonPressed(action))
        seen["events"] += kiosk_step(app, kiosk_topic(leaf), payload, correlation)
        seen["messages"] += 1

    one()
    assert seen["messages"] >= 1500 and seen["events"] >= 200, seen  # many reach the session
    assert tracebacks(caplog.records) == []
    assert app.outbox.get(queued.op_id) == queued, "the op queued before the fuzz is unchanged"
    assert any("bad message on" in r.getMessage() for r in caplog.records)


# -- the ledger ------------------------------------------------------------------------------------
@pytest.fixture
def ledger(tmp_path):
    path = str(tmp_path / "ledger.db")
    store = LedgerStore(path)
    store.add_member("Ada", ["04A1B2C3D4E5F6"], "m-ada", opening_balance=500)
    store.close()
    service = LedgerService(path, "127.0.0.1", 1)  # never connected: acks go nowhere
    yield service, LedgerStore(path, readonly=True)
    service._store and service._store.close()


LEDGER_TOPICS = {
    topics.ops("store-1", "kiosk-1"): fp.good_op(),
    topics.lookup("store-1", "kiosk-1"): fp.good_lookup_request(),
    topics.LOOKUP: fp.good_lookup_request(),
}
ledger_messages = st.sampled_from(sorted(LEDGER_TOPICS)).flatmap(
    lambda topic: st.tuples(st.just(topic), fp.payloads(LEDGER_TOPICS[topic]))
)
reply_topics = st.sampled_from(
    [None, topics.lookup_reply("store-1", "kiosk-1"), topics.acks("store-1", "kiosk-1"), "x/\x00"]
)


def test_no_ledger_payload_raises_or_logs_a_traceback(ledger, caplog):
    service, reader = ledger
    caplog.set_level(logging.DEBUG)
    seen = {"messages": 0}

    @FUZZ
    @given(message=ledger_messages, response_topic=reply_topics)
    def one(message, response_topic):
        topic, payload = message
        service._on_message(
            Incoming(topic, payload, response_topic=response_topic, correlation=b"c")
        )
        service._apply_pending()
        while not service.lookups.empty():
            item = service.lookups.get_nowait()
            json.loads(lookup_reply(reader, service.program, item.request))
        seen["messages"] += 1

    one()
    reader.close()
    assert seen["messages"] >= 1500
    assert tracebacks(caplog.records) == []
    assert LedgerStore(service.db_path).balance("m-ada") >= 0


# -- one real kiosk process ---------------------------------------------------------------------------
def test_a_kiosk_process_outlives_a_few_hundred_mutated_payloads(broker, tmp_path):
    outbox = tmp_path / "outbox.db"
    conf = kiosk_toml(
        tmp_path,
        broker.port,
        outbox,
        f'[reader]\ndriver = "sim"\npath = "{tmp_path}/control.sock"\n',
    )
    log_path = tmp_path / "kiosk.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(conf)],
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
    )
    pos = MqttLink(host=broker.host, port=broker.port, client_id="fuzz-pos")
    pos.start()
    try:
        assert pos.wait_connected(10) and wait_log(log_path, "kiosk ready")
        basket = topics.basket("store-1", "lane-1")
        pos.publish(basket, messages.encode("basket", fp.good_basket(1, "open", "b-0")))
        time.sleep(0.5)
        send(str(tmp_path / "control.sock"), "tap 04A1B2C3D4E5F6")
        time.sleep(0.5)
        pos.publish(basket, messages.encode("basket", fp.good_basket(2, "paid", "b-0")))
        assert wait_log(log_path, "points added: basket b-0")
        first = json.loads(queue_cmd(conf, "export"))["op_id"]
        rng = random.Random(13)
        control = str(tmp_path / "control.sock")
        for n in range(400):
            if n % 4 == 0:
                # A new card on a paid basket whose SKU is nasty text: its op must be sendable,
                # or the basket refused (main queued it, and the replay killed the process).
                send(control, f"tap 04A1B2C3{n:06X}")
                time.sleep(0.02)
                paid = fp.good_basket(1, "paid", f"f-{n}")
                paid["items"][0]["sku"] = rng.choice(fp.NASTY_TEXT[:5])
                pos.publish(basket, fp.encode(paid, rng.random() < 0.5))
                continue
            template = [fp.good_basket(1, "open", f"g-{n}"), fp.good_ack(), fp.good_lookup_reply()][
                n % 4 - 1
            ]
            topic = [
                basket,
                topics.acks("store-1", "kiosk-1"),
                topics.lookup_reply("store-1", "kiosk-1"),
            ][n % 4 - 1]
            pos.publish(topic, fp.random_mutation(rng, template))
        assert wait_log(log_path, "bad message on", count=150)
        time.sleep(2)
        assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
    finally:
        pos.stop()
        proc.terminate()
        proc.wait(15)
    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text, text[text.find("Traceback") - 500 :][:3000]
    assert first in queue_cmd(conf, "list"), "the op queued before the fuzz is still there"


def queue_cmd(conf, action: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "queue", action, "--config", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def wait_log(path, text, within=20.0, count=1) -> bool:
    deadline = time.monotonic() + within
    while path.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
