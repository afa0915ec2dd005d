"""kiosk.publisher: each message on its topic, with its options, validated before it leaves."""

import json

import pytest

from kiosk.publisher import Publisher
from mqtt import messages


@pytest.fixture
def out():
    sent = []

    def publish(topic, payload, qos=1, retain=False, response_topic=None, correlation=None):
        sent.append((topic, json.loads(payload), qos, retain, response_topic, correlation))
        return True

    p = Publisher(publish, "s-1", "l-1", "k-1")
    p.sent = sent
    return p


def test_topics_and_options(out):
    out.member({"basket_id": "b-1", "member": {"id": "m-1"}, "balance": 1, "projected_earn": 0})
    out.redemption({"basket_id": "b-1", "reward_id": "c", "action": "cancel", "points": 1})
    out.lookup({"token": {"kind": "uid", "value": "04AA"}}, b"abc")
    out.status({"state": "online"})
    out.op({"op_id": "00000000-0000-4000-8000-000000000000", "kiosk_seq": 1, "kind": "sale",
            "created_at": "x", "program_version": 1})
    assert [(t, q, r, rt, c) for t, _, q, r, rt, c in out.sent] == [
        ("loyalty/v1/stores/s-1/lanes/l-1/member", 1, False, None, None),
        ("loyalty/v1/stores/s-1/lanes/l-1/redemption", 1, False, None, None),
        ("loyalty/v1/stores/s-1/kiosks/k-1/lookup", 1, False, "loyalty/v1/stores/s-1/kiosks/k-1/lookup-reply",
         b"abc"),
        ("loyalty/v1/stores/s-1/kiosks/k-1/status", 1, True, None, None),
        ("loyalty/v1/stores/s-1/kiosks/k-1/ops", 1, False, None, None)]


def test_a_bad_body_never_reaches_the_broker(out):
    with pytest.raises(messages.BadMessage, match="member"):
        out.member({"basket_id": "B 1", "member": {"id": "m-1"}, "balance": 1,
                    "projected_earn": 0})
    assert out.sent == []
