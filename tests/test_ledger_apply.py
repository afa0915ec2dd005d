"""The ledger's apply path on a real SQLite file and a real PostgreSQL database: idempotency,
enrolment, redemption, rejection, and the invariant that a balance is the sum of the member's
journal."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.apply import apply_op, lookup
from ledger.store import LedgerError, LedgerStore
from program.engine import DefaultProgram

ORIGIN = ("store-1", "kiosk-1", 1)
CARD = "04A1B2C3D4E5F6"


def sale(total=1150, card=CARD, **kw):
    body = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card, "verified": False}, "basket_id": "b-1",
            "currency": "EUR", "total_minor": total, "earn": total // 100, "redeem": [],
            "created_at": "2026-01-01T00:00:00Z", "program_version": 1}
    body.update(kw)
    return body


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada", [CARD], "ada", opening_balance=150)
    yield s
    s.close()


def apply(store, op, program=None):
    with store.transaction():
        return apply_op(store, program or DefaultProgram(), op, ORIGIN)


def test_sale_earns_by_the_ledgers_own_pricing(store):
    ack = apply(store, sale(total=1150, earn=999))  # the kiosk's preview does not count
    assert ack["status"] == "applied" and ack["earned"] == 11
    assert ack["balance"] == 161 == store.balance("ada")


def test_repeated_op_id_is_a_duplicate_with_the_first_result(store):
    op = sale()
    first = apply(store, op)
    second = apply(store, op)
    assert second == {**first, "status": "duplicate"}
    assert [e["kind"] for e in store.history("ada")] == ["adjust", "earn"]
    assert store.balance("ada") == 161


def test_redemption_within_balance_and_refusal_is_recorded(store):
    ok = apply(store, sale(redeem=[{"reward_id": "coffee", "points": 100}]))
    assert ok["redeemed"] == 100 and ok["balance"] == 150 - 100 + 11
    too_much = apply(store, sale(redeem=[{"reward_id": "coffee", "points": 100}] * 2))
    # 61 points cover no coffee: the earn stands, the refusal is named and kept for reports.
    assert too_much["status"] == "applied" and too_much["redeemed"] == 0
    assert "coffee needs 100 points" in too_much["reason"]
    assert len(store.refusals()) == 2 and store.refusals()[0]["op_id"] == too_much["op_id"]
    assert store.balance("ada") == 61 + 11


def test_unknown_card_is_enrolled_once_even_when_replayed(store):
    op = sale(card="04DEADBEEF0001", enrol=True)
    first = apply(store, op)
    again = apply(store, op)
    assert first["status"] == "applied" and again["status"] == "duplicate"
    member = store.find("04deadbeef0001")
    assert member.member_id == first["member_id"] and member.balance == 11
    assert len(store.members()) == 2


def test_rejections_are_remembered_and_repeated(store):
    strict = DefaultProgram(unknown_token="reject", allow_unverified_uid=True)
    op = sale(card="0499")
    first = apply(store, op, strict)
    assert first["status"] == "rejected" and first["reason"] == "unknown card"
    assert apply(store, op, strict) == first  # the kiosk whose ack was lost learns it again
    no_uid = DefaultProgram(allow_unverified_uid=False)
    assert "not accepted" in apply(store, sale(), no_uid)["reason"]
    assert store.balance("ada") == 150


def test_enrol_op_without_basket(store):
    op = {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 3, "kind": "enrol",
          "token": {"kind": "ndef", "value": "MEMBER-0001"}, "enrol": True,
          "created_at": "x", "program_version": 1}
    ack = apply(store, op)
    assert ack["status"] == "applied" and ack["earned"] == 0
    assert lookup(store, DefaultProgram(), {"token": {"kind": "ndef", "value": "MEMBER-0001"}})[
        "member"]["id"] == ack["member_id"]


def test_lookup_answers_balance_and_affordable_rewards(store):
    reply = lookup(store, DefaultProgram(), {"token": {"kind": "uid", "value": CARD.lower()}})
    assert reply["found"] and reply["member"]["name"] == "Ada" and reply["balance"] == 150
    assert reply["rewards"][0] == {"reward_id": "coffee", "name": "Free coffee", "cost": 100,
                                   "discount_minor": 250, "affordable": True}
    assert lookup(store, DefaultProgram(), {"token": {"kind": "uid", "value": "00"}}) == {
        "v": 1, "found": False, "program_version": 1}


def test_a_card_belongs_to_one_member(store):
    with pytest.raises(LedgerError, match="belongs to member ada"):
        store.add_member("Eve", [CARD.lower()])
    with pytest.raises(LedgerError, match="exists already"):
        store.add_member("Ada again", [], "ada")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 50_000), st.booleans(), st.booleans()), max_size=25))
def test_balance_is_always_the_sum_of_the_journal(store, sales):
    # one store for all examples (a PostgreSQL database each would be slow): a new member each
    who = "m-" + uuid.uuid4().hex[:12]
    card = uuid.uuid4().hex[:14].upper()
    store.add_member("Ada", [card], who, opening_balance=120)
    ops = []
    for total, redeem, repeat in sales:
        op = sale(total=total, card=card,
                  redeem=[{"reward_id": "coffee", "points": 100}] if redeem else [])
        ops.append(op)
        apply(store, op)
        if repeat:
            apply(store, ops[len(ops) // 2])
    journal = store.history(who)
    assert store.balance(who) == sum(e["points"] for e in journal)
    assert store.balance(who) >= 0  # redemptions never overdraw
    assert len({e["op_id"] for e in journal if e["kind"] == "earn"}) == len(
        [e for e in journal if e["kind"] == "earn"])


def test_an_unknown_card_joins_only_when_the_customer_chose_to(store):
    # unknown_token "enrol" lets unknown cards join; it does not join them on its own.
    declined = apply(store, sale(card="04DEADBEEF0009", enrol=False))
    assert declined["status"] == "rejected" and declined["reason"].startswith("not_joined:")
    assert store.find("04deadbeef0009") is None and len(store.members()) == 1
    joined = apply(store, sale(card="04DEADBEEF0009", enrol=True))
    assert joined["status"] == "applied" and store.find("04deadbeef0009") is not None


def test_a_program_that_refuses_unknown_cards_lets_none_join(store):
    strict = DefaultProgram(unknown_token="reject")
    ack = apply(store, sale(card="04DEADBEEF0010", enrol=True), strict)
    assert ack == {"v": 1, "op_id": ack["op_id"], "status": "rejected", "reason": "unknown card"}
    assert len(store.members()) == 1
