"""kiosk.returns on a real outbox file: a refund's op_id comes from its refund id, so the same
refund is queued once; a post-void is queued only for a basket settled as paid with an op, once;
a bad refund message is refused with its reason; a full outbox tells the POS."""

import pytest

from kiosk.outbox import Outbox
from kiosk.ports import Ports
from kiosk.returns import Returns, read_refund, refund_op_id, void_op_id
from mqtt import messages, topics

SALE = {
    "v": 1,
    "op_id": "00000000-0000-4000-8000-000000000001",
    "kind": "sale",
    "basket_id": "b-1",
    "currency": "EUR",
    "total_minor": 1000,
    "created_at": "x",
    "program_version": 1,
}


@pytest.fixture
def box(tmp_path):
    b = Outbox(tmp_path / "outbox.db", max_ops=3)
    yield b
    b.close()


@pytest.fixture
def notices():
    return []


@pytest.fixture
def returns(box, notices):
    def notify(body):
        notices.append((topics.notice("store-1", "lane-1"), messages.encode("notice", body) and body))
        return True

    ports = Ports(publish=lambda *a, **k: True, show=lambda view: None, online=lambda: True,
                  clock_synced=lambda: True)
    return Returns(box, "store-1", "lane-1", notify, ports)


def test_the_same_refund_is_one_op_with_an_id_from_its_refund_id(box, returns):
    msg = read_refund(
        b'{"v":1,"refund_id":"r-1","basket_id":"b-1","lines":[{"sku":"tea","qty":1}]}'
    )
    returns.refund(msg, 3)
    returns.refund(msg, 3)
    [op] = box.pending()
    assert op.op_id == refund_op_id("store-1", "r-1") != refund_op_id("store-2", "r-1")
    assert op.body["lines"] == [{"sku": "tea", "qty": 1}] and op.body["kind"] == "refund"
    messages.validate("op", op.message())  # what the replayer sends is a valid v1.1 op


def test_a_post_void_is_queued_only_after_paid_and_only_once(box, returns):
    box.settle("b-1", "paid", SALE, "uid:04", 10)
    box.settle("b-2", "paid", None)  # paid without a member: nothing to take back
    box.settle("b-3", "void", None)
    for basket_id in ("b-1", "b-1", "b-2", "b-3", "b-9"):
        returns.post_void({"basket_id": basket_id}, 1)
    ops = [op for op in box.pending() if op.body["kind"] == "refund"]
    assert [op.op_id for op in ops] == [void_op_id("store-1", "b-1")]
    assert "refund_id" not in ops[0].body and "lines" not in ops[0].body


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b'{"v":1,"refund_id":"r-1"}', "basket_id"),
        (b'{"v":1,"refund_id":"r-1","basket_id":"b-1","lines":[]}', "lines"),
        (
            b'{"v":1,"refund_id":"r-1","basket_id":"b-1","lines":[{"sku":"a","qty":1},'
            b'{"sku":"a","qty":2}]}',
            "sku a listed twice",
        ),
        (b'{"v":1,"refund_id":"r-1","basket_id":"b-1","amount":5}', "must not contain"),
    ],
)
def test_a_bad_refund_message_is_refused_with_its_reason(payload, reason):
    with pytest.raises(messages.BadMessage, match=reason):
        read_refund(payload)


def test_a_full_outbox_refuses_the_refund_and_tells_the_pos(box, returns, notices):
    box.add_many(
        [({**SALE, "op_id": f"00000000-0000-4000-8000-00000000000{n}"}, "k", 0) for n in range(3)]
    )
    returns.refund({"v": 1, "refund_id": "r-1", "basket_id": "b-1"}, 1)
    assert box.depth() == 3
    [(topic, body)] = notices
    assert topic == "loyalty/v1/stores/store-1/lanes/lane-1/notice"
    assert body["kind"] == "return_refused" and "queue full" in body["reason"]


def test_the_ledgers_answer_becomes_a_notice(returns, notices):
    op = {"kind": "refund", "basket_id": "b-1", "refund_id": "r-1"}
    returns.acked(
        op,
        {
            "op_id": "x",
            "status": "applied",
            "balance": 140,
            "taken_back": 11,
            "returned": 100,
            "reason": "cake: 1 not refunded",
        },
    )
    returns.acked({"kind": "sale", "basket_id": "b-2"}, {"op_id": "y", "status": "applied"})
    returns.acked(op, {"op_id": "x", "status": "rejected", "reason": "unknown_basket: b-1"})
    assert [
        (b["kind"], b.get("points"), b.get("balance"), b.get("reason")) for _, b in notices
    ] == [
        ("return_applied", 89, 140, "cake: 1 not refunded"),
        ("return_refused", None, None, "unknown_basket: b-1"),
    ]
