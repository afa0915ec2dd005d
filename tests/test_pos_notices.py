"""What the POS is told (kiosk.notices, kiosk.basket_switch): refused baskets and why, declined
joins, the member id the ledger gives a new card, the member message only when it changes, and
the rule for a new basket while a member sits on an unpaid one. Driven like tests/test_session.py:
the real session and outbox, a fake clock, the published messages recorded (no broker)."""

import json
import uuid

import pytest

from display import views as v
from kiosk import events as e
from kiosk.outbox import Outbox
from kiosk.replay import Replayer
from mqtt import messages, topics
from program.engine import DefaultProgram
from tests.test_session import CARD, Counter


@pytest.fixture
def counter(tmp_path):
    c = Counter(tmp_path)
    yield c
    c.outbox.close()


def notices(c: Counter) -> list[dict]:
    found = c.of_kind("notice")
    assert all(n.topic == topics.notice("store-1", "lane-1") and not n.retain for n in found)
    return [n.body for n in found]


# -- refused baskets ---------------------------------------------------------------------------
def test_a_basket_in_a_currency_the_program_does_not_price_is_refused_and_the_pos_told(counter):
    counter.till("open")
    counter.tap()
    counter.answer()
    counter.basket["currency"] = "USD"
    counter.till("paid")
    assert counter.queued() == [] and not counter.outbox.is_settled("b-1")
    (n,) = notices(counter)
    assert n["kind"] == "basket_refused" and n["basket_id"] == "b-1"
    assert n["reason"] == "currency_mismatch: basket in USD, the program prices EUR"
    assert n["at"] == "2026-01-01T00:00:00.000+00:00"
    assert counter.screen == v.ErrorMessage("Basket refused: ask staff")
    counter.till("paid")  # the POS sends it again: told once
    assert len(notices(counter)) == 1


def test_a_basket_that_prices_past_the_points_limit_is_refused_up_front(counter):
    # 10,000 points per unit: a 10^10 EUR basket prices 10^14 points, past the contract's limit.
    counter.session = counter.new_session(DefaultProgram(points_per_unit=10_000))
    counter.till("open", items=[("gold", 10_000, 10**8)])
    counter.tap()
    counter.answer()
    counter.till("paid")
    assert counter.queued() == [] and counter.of_kind("member") == []
    (n,) = notices(counter)
    assert n["kind"] == "basket_refused" and n["reason"].startswith("op_too_large:")


def test_a_paid_basket_whose_op_the_ledger_could_not_take_is_settled_without_one(tmp_path):
    c = Counter(tmp_path, online=False)
    c.till("open")
    c.tap("M" * 600, kind="qr")  # offline, so no lookup: only the op would carry it
    c.till("paid")
    assert c.queued() == [] and c.outbox.is_settled("b-1") and c.session.customer is None
    c.link_up = True
    c.till("open", basket_id="b-2")  # the next sale goes through: nothing poisoned the queue
    c.tap()
    c.till("paid")
    c.batch_done()
    assert [o["basket_id"] for o in c.queued()] == ["b-2"] and len(c.of_kind("ops")) == 1
    c.outbox.close()


def test_a_basket_the_contract_refuses_is_told_to_the_pos(counter):
    payload = json.dumps(
        {
            "v": 1,
            "basket_id": "b-7",
            "seq": 1,
            "status": "paid",
            "currency": "EUR",
            "total_minor": 100,
            "items": [{"sku": "tea\u0000", "qty": 1, "unit_minor": 100}],
        }
    )
    with pytest.raises(messages.BadMessage) as bad:
        messages.decode("basket", payload.encode())
    assert str(bad.value) == "basket: items[0].sku holds a NUL character"
    counter.handle(e.BasketRefused("b-7", f"bad_basket: {bad.value}"))
    (n,) = notices(counter)
    assert n == {
        "v": 1,
        "basket_id": "b-7",
        "kind": "basket_refused",
        "reason": "bad_basket: basket: items[0].sku holds a NUL character",
        "at": "2026-01-01T00:00:00.000+00:00",
    }


@pytest.mark.parametrize(
    ("text", "why"),
    [("tea\u0000", "holds a NUL character"), ("tea\ud800", "lone UTF-16 surrogate")],
)
def test_text_utf8_cannot_carry_is_refused_on_every_topic(text, why):
    body = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "sale",
        "created_at": "x",
        "program_version": 1,
        "items": [{"sku": text, "qty": 1, "unit_minor": 1}],
    }
    for payload in (
        json.dumps(body).encode(),
        json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ):
        with pytest.raises(messages.BadMessage, match=why):
            messages.decode("op", payload)
    assert messages.decode("op", json.dumps(body | {"items": []}).encode())["items"] == []


def test_an_op_queued_that_cannot_be_sent_is_set_aside_and_blocks_no_other(tmp_path):
    outbox = Outbox(tmp_path / "o.db")
    good = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kind": "enrol",
        "created_at": "x",
        "program_version": 1,
    }
    # queued by an older kiosk version, before the token limit: the contract refuses it now
    bad = good | {"op_id": str(uuid.uuid4()), "token": {"kind": "qr", "value": "M" * 600}}
    outbox.add_many([(bad, "uid:04AA", 0), (good, "uid:04BB", 0)])
    sent = []
    replayer = Replayer(outbox, lambda m: sent.append(messages.encode("op", m)) or True)
    assert replayer.pump(0.0, True) == 1
    assert [json.loads(s)["op_id"] for s in sent] == [good["op_id"]]
    assert [r["op_id"] for r in outbox.rejected()] == [bad["op_id"]]
    assert "token.value must be shorter than or equal to 512" in outbox.rejected()[0]["reason"]
    outbox.close()


# -- joining --------------------------------------------------------------------------------
def test_an_unknown_card_that_does_not_join_earns_nothing_and_the_pos_is_told(counter):
    counter.till("open")
    counter.tap("04DEADBEEF0003")
    counter.answer(found=False)
    assert counter.screen == v.EnrolOffer()
    counter.till("paid")  # the customer never pressed select
    assert counter.queued() == [] and counter.outbox.is_settled("b-1")
    (n,) = notices(counter)
    assert n["kind"] == "join_declined" and n["reason"].startswith("not_joined:")
    assert counter.screen == v.ErrorMessage("Not a member: no points")


def test_offline_a_card_that_did_not_join_is_declined_by_the_ledger_and_the_pos_told(tmp_path):
    c = Counter(tmp_path, online=False)
    c.till("open")
    c.tap("04DEADBEEF0004")
    assert c.screen == v.EnrolOffer()
    c.till("paid")
    (op,) = c.queued()
    assert op["enrol"] is False, "it may be a member this kiosk never saw: the ledger decides"
    c.link_up = True
    c.batch_done()
    c.ack(
        op["op_id"],
        status="rejected",
        reason="not_joined: unknown card, and the customer did not choose to join",
    )
    (n,) = notices(c)
    assert n["kind"] == "join_declined" and n["basket_id"] == "b-1"
    c.outbox.close()


# -- the member message and the member id ---------------------------------------------------------
def test_the_member_message_is_sent_only_when_it_changes(counter):
    counter.till("open")
    counter.tap()
    counter.answer()
    before = len(counter.of_kind("member"))
    counter.till("open")  # a new seq, the same figures
    counter.till("total")
    assert len(counter.of_kind("member")) == before
    counter.till("total", discount=500)  # the total changed: so did the projected earn
    assert len(counter.of_kind("member")) == before + 1
    assert counter.of_kind("member")[-1].body["projected_earn"] == 6


def test_a_new_card_gets_the_ledger_member_id_told_to_the_pos(counter):
    counter.till("open")
    counter.tap("04DEADBEEF0005")
    counter.answer(found=False)
    counter.press("select")
    assert counter.of_kind("member")[-1].body["member"]["id"] == "unknown"
    counter.till("paid")
    counter.batch_done()
    (op,) = counter.queued()
    counter.ack(op["op_id"], member_id="m-new", balance=11, earned=11)
    (n,) = notices(counter)
    assert n["kind"] == "member_changed" and n["basket_id"] == "b-1"
    assert n["member_id"] == "m-new" and n["balance"] == 11 and n["points"] == 11


def test_a_known_member_s_ack_tells_the_pos_nothing_new(counter):
    counter.till("open")
    counter.tap()
    counter.answer()
    assert counter.of_kind("member")[-1].body["member"]["id"] == "m-ada"
    counter.till("paid")
    counter.batch_done()
    counter.ack(counter.queued()[0]["op_id"], member_id="m-ada", balance=251, earned=11)
    assert notices(counter) == []


# -- a new basket while a member sits on an unpaid one ------------------------------------------
def test_a_basket_never_totalled_hands_its_member_to_the_new_one(counter):
    counter.till("open")
    counter.tap()
    counter.answer(balance=250)
    counter.press("next")
    counter.press("select")  # a reward held on b-1
    counter.till("open", basket_id="b-2")
    (n,) = notices(counter)
    assert n["kind"] == "member_changed" and n["basket_id"] == "b-1" and n["member_id"] == "m-ada"
    assert "b-2" in n["reason"]
    cancel = counter.of_kind("redemption")[-1].body
    assert cancel["basket_id"] == "b-1" and cancel["action"] == "cancel"
    member = counter.of_kind("member")[-1].body
    assert member["basket_id"] == "b-2" and member["balance"] == 250
    assert counter.outbox.load_attachment("b-1") is None
    counter.till("paid", basket_id="b-2")
    (op,) = counter.queued()
    assert op["basket_id"] == "b-2" and op["member_id"] == "m-ada" and op["redeem"] == []


def test_a_totalled_basket_s_member_is_dropped_and_asked_to_tap_again(counter):
    counter.till("open")
    counter.tap(CARD)
    counter.answer()
    counter.till("total")
    counter.till("open", basket_id="b-2")
    (n,) = notices(counter)
    assert n["kind"] == "member_changed" and n["reason"].startswith("member_dropped:")
    assert counter.screen == v.ErrorMessage("New basket: please tap again")
    assert counter.session.customer is None and counter.outbox.load_attachment("b-1") is None
    assert all(m.body["basket_id"] == "b-1" for m in counter.of_kind("member"))
