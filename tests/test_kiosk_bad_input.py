"""Bad payloads on every topic the kiosk reads: logged with the reason, the kiosk keeps
working, and the op already queued in the outbox stays there (nothing acks it)."""

import json
import logging
import time

import pytest

from mqtt import messages, topics
from mqtt.client import MqttLink
from simulation.simulated_kiosk import SimulatedKiosk, sim_config


def wait_for(check, within=10.0):
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def rig(broker, tmp_path):
    # The ledger is absent on purpose: nothing may remove the queued op but a valid ack.
    kiosk = SimulatedKiosk(sim_config(broker.port, tmp_path)).start()
    pos = MqttLink(host=broker.host, port=broker.port, client_id="test-pos")
    pos.start()
    assert pos.wait_connected(10) and wait_for(lambda: kiosk.online)
    yield kiosk, pos
    pos.stop()
    kiosk.stop()


def basket(seq, status, basket_id="b-1", total=1000):
    return messages.encode("basket", {"v": 1, "basket_id": basket_id, "seq": seq,
                                      "status": status, "currency": "EUR",
                                      "total_minor": total})


BAD = [
    (b"not json", "not JSON"),
    (b"\xff\xfe\x00garbage", "not"),
    (b"[1, 2]", "expected a JSON object"),
    (json.dumps({"basket_id": 7}).encode(), "must contain"),
    (json.dumps({"basket_id": 7, "seq": 1, "status": "open", "currency": "EUR",
                 "total_minor": 1}).encode(), "must be string"),
    (json.dumps({"op_id": "x" * 40, "status": "applied"}).encode(), ""),
    (b"{" + b'"a":' * 1 + b'"' + b"x" * 70000 + b'"}', "exceeds"),
    (json.dumps({"basket_id": "B 1", "seq": 1, "status": "paid", "currency": "EUR",
                 "total_minor": 1}).encode(), "pattern"),
    (json.dumps({"basket_id": "b-9", "seq": 1, "status": "paid", "currency": "EUR",
                 "total_minor": 1, "extra": True}).encode(), "must not contain"),
]


def test_bad_payloads_are_logged_and_nothing_is_lost(rig, caplog):
    kiosk, pos = rig
    caplog.set_level(logging.WARNING)
    # One sale queued (no ledger running, so it stays in the outbox).
    pos.publish(topics.basket("store-1", "lane-1"), basket(1, "open"), retain=True)
    kiosk.tap("04A1B2C3")
    pos.publish(topics.basket("store-1", "lane-1"), basket(2, "paid"), retain=True)
    assert wait_for(lambda: kiosk.outbox_depth() == 1)
    queued = kiosk.app.outbox.pending()[0].op_id

    targets = [topics.basket("store-1", "lane-1"), topics.acks("store-1", "kiosk-1"),
               topics.lookup_reply("store-1", "kiosk-1")]
    for topic in targets:
        for payload, _ in BAD:
            pos.publish(topic, payload)
    # A well-formed ack for an op we never sent must not disturb the queue either.
    pos.publish(targets[1], messages.encode("ack", {
        "v": 1, "op_id": "00000000-0000-4000-8000-000000000000", "status": "applied"}))

    assert wait_for(lambda: sum("bad message on" in r.message for r in caplog.records)
                    >= len(targets) * len(BAD))
    reasons = "\n".join(r.message for r in caplog.records)
    for _, words in BAD:
        assert words in reasons
    for topic in targets:
        assert topic in reasons

    # Still alive: a new basket shows up on the screen, and the op is still queued.
    pos.publish(topics.basket("store-1", "lane-1"), basket(1, "total", "b-2", 2500), retain=True)
    assert wait_for(lambda: "€25.00" in kiosk.screen_text())
    assert [p.op_id for p in kiosk.app.outbox.pending()] == [queued]


def test_stale_and_repeated_basket_messages_do_not_double_settle(rig):
    kiosk, pos = rig
    t = topics.basket("store-1", "lane-1")
    pos.publish(t, basket(1, "open"), retain=True)
    kiosk.tap("04A1B2C3")
    pos.publish(t, basket(3, "paid"), retain=True)
    pos.publish(t, basket(2, "total"))  # late, lower seq: ignored
    pos.publish(t, basket(3, "paid"))  # repeated
    assert wait_for(lambda: kiosk.outbox_depth() == 1)
    time.sleep(0.5)
    assert kiosk.outbox_depth() == 1


def test_uplink_state_junk_is_refused_and_real_states_switch_offline(rig, caplog):
    kiosk, pos = rig
    caplog.set_level(logging.WARNING)
    up = topics.uplink("store-1")
    pos.publish(up, b"maybe", retain=True)
    assert wait_for(lambda: "expected 0 or 1" in caplog.text)
    assert kiosk.online
    pos.publish(up, b"0", retain=True)
    assert wait_for(lambda: not kiosk.online)
    pos.publish(up, b"1", retain=True)
    assert wait_for(lambda: kiosk.online)
