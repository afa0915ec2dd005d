"""Segment-targeted offers on a real SQLite file and a real PostgreSQL database: a promotion for
a rule segment (computed when the sale is applied) and a reward for an RFM segment (as of the
last refresh) reach members in them and are refused to the others; the lookup reply lists the
member's personal offers and stays valid against lookup_reply.json."""

import datetime as dt
import uuid

import pytest

from ledger import segment_book
from ledger.apply import apply_op, lookup
from ledger.store import LedgerStore
from mqtt import messages
from program.files import check_body, program_from_body
from tests.test_segments import paid

ADA, BEN = "04A1B2C3D4E5F6", "04B0B0B0B0B0B0"
ORIGIN = ("store-1", "kiosk-1", 1)
PROGRAM = {
    "version": 2,
    "name": "Targeted",
    "currency": "EUR",
    "segments": [{"id": "regulars", "all": [{"purchases": {"min": 2}}]}],
    "promotions": [
        {"id": "double", "name": "Double points today", "multiplier": 2, "segments": ["regulars"]}
    ],
    "rewards": [
        {"id": "coffee", "name": "Free coffee", "cost": 100, "kind": "amount_off",
         "amount_minor": 250},
        {"id": "cake", "name": "Cake on us", "cost": 50, "kind": "amount_off",
         "amount_minor": 420, "segments": ["potential"]},
    ],
}  # fmt: skip


def sale(card: str, redeem=()) -> dict:
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale",
            "token": {"kind": "uid", "value": card, "verified": False},
            "basket_id": uuid.uuid4().hex[:12], "currency": "EUR", "total_minor": 1000,
            "items": [], "redeem": [{"reward_id": r, "points": 50} for r in redeem],
            "created_at": "2026-06-01T10:00:00.000+00:00", "clock_synced": True,
            "program_version": 2}  # fmt: skip


@pytest.fixture
def setup(ledger_db):
    store = LedgerStore(ledger_db)
    store.add_member("Ada", [ADA], "ada", opening_balance=200)
    store.add_member("Ben", [BEN], "ben", opening_balance=200)
    store.save_program(2, check_body(PROGRAM))
    for _ in range(2):  # Ada is a regular: two baskets already
        paid(store, "ada", dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    yield store, program_from_body(PROGRAM)
    store.close()


def apply(store, program, op) -> dict:
    with store.transaction():
        return apply_op(store, program, op, ORIGIN)


def test_a_rule_segment_promotion_reaches_its_members_only(setup):
    store, program = setup
    assert apply(store, program, sale(ADA))["earned"] == 20  # 10 base, doubled for a regular
    assert apply(store, program, sale(BEN))["earned"] == 10
    assert apply(store, program, sale(BEN))["earned"] == 10  # Ben's first basket: 1 so far
    assert apply(store, program, sale(BEN))["earned"] == 20  # now two before it: a regular


def test_an_rfm_reward_follows_the_last_refresh(setup):
    store, program = setup
    refused = apply(store, program, sale(ADA, redeem=["cake"]))
    assert refused["redeemed"] == 0
    assert refused["reason"] == "refused: cake is offered only to segments potential"
    segment_book.refresh(store)  # Ada alone is scored: she ties with herself, "potential"
    assert apply(store, program, sale(ADA, redeem=["cake"]))["redeemed"] == 50
    assert apply(store, program, sale(BEN, redeem=["cake"]))["redeemed"] == 0  # not scored then


def test_the_lookup_reply_lists_personal_offers(setup):
    store, program = setup
    segment_book.refresh(store)
    ada = messages.validate("lookup_reply", lookup(store, program, {"member_id": "ada"}))
    assert ada["offers"] == [
        {"offer_id": "double", "kind": "promotion", "name": "Double points today"},
        {"offer_id": "cake", "kind": "reward", "name": "Cake on us"},
    ]
    assert [r["reward_id"] for r in ada["rewards"]] == ["coffee", "cake"]
    ben = messages.validate("lookup_reply", lookup(store, program, {"member_id": "ben"}))
    assert "offers" not in ben and [r["reward_id"] for r in ben["rewards"]] == ["coffee"]
