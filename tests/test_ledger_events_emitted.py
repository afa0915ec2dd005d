"""Business events where the changes happen, on SQLite and PostgreSQL: an enrolment at the kiosk,
earning and redeeming (op by op and the batch way, which emit the same), a refund, expiry, a tier
change, an adjustment, profile and consent changes, forgetting, segment moves. A repeated op_id
emits nothing, and no event carries a name, an email or a phone number."""

import datetime as dt
import uuid

import pytest

from ledger import events, profiles, segment_book
from ledger.apply import apply_in_savepoint
from ledger.batch import apply_batch
from ledger.memberstate import expire_points
from ledger.store import LedgerStore
from program.engine import DefaultProgram
from program.files import check_body, program_from_body
from tests.test_ledger_refunds import DOUBLE_COFFEE, refund
from tests.test_ledger_refunds import sale as basket_sale

ORIGIN = ("store-1", "kiosk-7", 3)
CARD = "04A1B2C3D4E5F6"
PROGRAM = DefaultProgram()


def sale(card=CARD, total=1500, redeem=(), **kw):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card}, "basket_id": "b-" + uuid.uuid4().hex[:6],
            "currency": "EUR", "total_minor": total, "earn": 0, "created_at": "x",
            "program_version": 1, "redeem": [{"reward_id": r, "points": 100} for r in redeem],
            **kw}


def apply(store, op, program=PROGRAM):
    with store.transaction():
        return apply_in_savepoint(store, program, op, ORIGIN)


def seen(store, after=0):
    return [(e.type, e.member_id, e.data) for e in events.since(store.db, after, limit=10_000)]


def last_seq(store):
    got = events.since(store.db, 0, limit=10_000)
    return got[-1].seq if got else 0


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


def test_enrolment_at_the_kiosk_then_earning_and_a_repeat_that_emits_nothing(store):
    op = sale(enrol=True)
    ack = apply(store, op)
    member = ack["member_id"]
    where = {"op_id": op["op_id"], "store": "store-1", "kiosk": "kiosk-7", "balance": 15}
    assert seen(store) == [
        ("member.created", member, {**where, "source": "kiosk", "bonus": 0}),
        ("points.earned", member, {**where, "points": 15, "basket_id": op["basket_id"],
                                   "tier": "member"}),
    ]
    before = last_seq(store)
    assert apply(store, op)["status"] == "duplicate"
    with store.transaction():
        assert apply_batch(store, lambda _op: PROGRAM, [(op, ORIGIN)])[0]["status"] == "duplicate"
    assert seen(store, before) == []


def test_the_batch_way_emits_what_op_by_op_emits(ledger_db, store, request):
    if ledger_db.startswith("postgresql"):
        from ledger import db

        other_url = request.getfixturevalue("pg_cluster").database()
        db.upgrade(other_url)
    else:
        other_url = ledger_db + ".2"
    other = LedgerStore(other_url)
    ops = [sale(total=1000 + 100 * i) for i in range(5)] + [sale(redeem=["coffee"])]
    for s in (store, other):
        s.add_member("Ada", [CARD], "ada", opening_balance=100)
    start = [last_seq(s) for s in (store, other)]
    with store.transaction():
        results = apply_batch(store, lambda _op: PROGRAM, [(op, ORIGIN) for op in ops])
    by_one = [apply(other, op) for op in ops]
    assert results == by_one
    assert seen(store, start[0]) == seen(other, start[1])
    got = seen(store, start[0])
    assert [t for t, _, _ in got] == ["points.earned"] * 6 + ["points.redeemed"]
    assert [d["balance"] for _, _, d in got[:5]] == [110, 121, 133, 146, 160]
    assert got[-1][2]["rewards"] == ["coffee"] and got[-1][2]["points"] == 100
    other.close()


def test_a_refund_returns_points_in_an_event(store):
    program = program_from_body(check_body(DOUBLE_COFFEE))
    store.add_member("Ada", [CARD], "ada", opening_balance=150)
    apply(store, basket_sale(), program)
    before = last_seq(store)
    op = refund()
    apply(store, op, program)
    assert seen(store, before) == [("points.returned", "ada", {
        "op_id": op["op_id"], "store": "store-1", "kiosk": "kiosk-7", "balance": 150,
        "taken_back": 18, "returned": 0, "shortfall": 0, "basket_id": "b-1",
        "refund_id": "r-1"})]


def test_expiry_and_a_tier_change_are_events(store):
    program = program_from_body(check_body({
        "version": 1, "name": "T", "currency": "EUR", "earning": {"expire_after_days": 30},
        "tiers": [{"id": "silver", "min_points": 20}]}))
    store.add_member("Ada", [CARD], "ada", opening_balance=40)
    before = last_seq(store)
    ack = apply(store, sale(total=2500), program)
    assert ack["tier"] == "silver"
    assert ("tier.changed", "ada") in [(t, m) for t, m, _ in seen(store, before)]
    assert [d for t, _, d in seen(store, before) if t == "tier.changed"][0]["to"] == "silver"
    before = last_seq(store)
    with store.transaction():
        expire_points(store, program, "ada", now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
    assert seen(store, before) == [("points.expired", "ada",
                                    {"points": 65, "balance": 0, "after_days": 30})]


def test_people_made_changes_are_events_without_personal_data(store):
    member = store.add_member("Ada Lovelace", [CARD], opening_balance=10)
    store.adjust(member, 5, "goodwill for Ada Lovelace", "ana")
    profiles.update(store, member, {"email": "ada@example.org", "phone": "+4912345"},
                    labels=["vip"])
    profiles.set_consent(store, member, "email", True, "kiosk", "v1")
    profiles.forget(store, member)
    got = seen(store)
    assert [t for t, _, _ in got] == ["member.created", "points.adjusted", "member.updated",
                                      "member.updated", "member.forgotten"]
    assert got[0][2] == {"source": "cli", "store": None, "tier": "member", "balance": 10,
                         "cards": 1}
    assert got[1][2] == {"points": 5, "balance": 15}
    assert got[2][2]["fields"] == ["email", "phone"] and got[2][2]["labels_added"] == 1
    assert got[3][2]["consent"]["channel"] == "email" and got[3][2]["consent"]["given"] is True
    assert got[4][2] == {"cards_unbound": 1}
    text = str(got)
    for personal in ("Ada", "Lovelace", "ada@example.org", "12345"):
        assert personal not in text


def test_a_segment_refresh_emits_who_entered_and_left(store):
    a = store.add_member("A", [CARD])
    apply(store, sale())
    before = last_seq(store)
    changes = segment_book.refresh(store)
    got = seen(store, before)
    assert changes.entered and sorted((d["segment_id"], m) for t, m, d in got
                                      if t == "segment.entered") == changes.entered
    assert all(m == a for _, m, _ in got)
    before = last_seq(store)
    assert segment_book.refresh(store).entered == [] and seen(store, before) == []
