"""Reservations of limited rewards at the ledger (SQLite and PostgreSQL): a reward with a stock
or a per-member limit chosen at a lane is held for that member, counted against the limits by
other lanes' reservations, lookups and sales, consumed once by the sale that carries it, and
freed when its kiosk releases it or it lapses."""

import time

import pytest

from ledger import reserve
from ledger.apply import lookup
from ledger.programs import ProgramBook
from ledger.store import LedgerStore
from mqtt import messages
from tests.test_ledger_program import apply, body, new_member, sale_op

LANE_1, LANE_2 = ("store-1", "kiosk-1"), ("store-1", "kiosk-2")


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    yield s
    s.close()


@pytest.fixture
def program(store):
    store.save_program(
        1,
        body(
            version=1,
            rewards=[
                {
                    "id": "mug",
                    "name": "Mug",
                    "cost": 10,
                    "kind": "free_item",
                    "sku": "mug",
                    "stock": 1,
                },
                {
                    "id": "welcome",
                    "name": "Welcome",
                    "cost": 10,
                    "kind": "amount_off",
                    "amount_minor": 100,
                    "limit_per_member": 1,
                },
            ],
        ),
    )
    return ProgramBook.load(store).active


def ask(store, program, card, reward_id, asker=LANE_1, now=None, hold_s=600):
    request = {
        "v": 1,
        "action": "reserve",
        "reward_id": reward_id,
        "basket_id": "b-1",
        "token": {"kind": "uid", "value": card},
    }
    with store.transaction():
        reply = reserve.answer(
            store,
            program,
            messages.validate("reserve_request", request),
            asker,
            now=now,
            hold_s=hold_s,
        )
    return messages.validate("reserve_reply", reply)


def release(store, program, reservation_id, asker=LANE_1):
    request = {"v": 1, "action": "release", "reward_id": "mug", "reservation_id": reservation_id}
    with store.transaction():
        assert reserve.answer(store, program, request, asker) is None  # not answered


def offered(store, program, who):
    return [r["reward_id"] for r in lookup(store, program, {"member_id": who})["rewards"]]


def redeem_op(card, reward_id, reservation_id=None):
    op = sale_op(card, total=0, redeem=[reward_id])
    if reservation_id:
        op["redeem"][0]["reservation_id"] = reservation_id
    return messages.validate("op", op)


def test_two_lanes_race_for_the_last_one_one_is_granted_the_other_told_sold_out(store, program):
    (_ada, ada_card), (bob, bob_card) = new_member(store, 100), new_member(store, 100)
    first = ask(store, program, ada_card, "mug", LANE_1)
    second = ask(store, program, bob_card, "mug", LANE_2)
    assert first["granted"] and first["expires_in_s"] == 600
    assert not second["granted"] and second["reason"].startswith("sold_out: mug is out of stock")
    assert "mug" not in offered(store, program, bob)  # the lookup counts the reservation too
    ack = apply(store, redeem_op(bob_card, "mug"))  # a sale without it: refused, not given
    assert ack["redeemed"] == 0 and "mug is out of stock" in ack["reason"]
    ack = apply(store, redeem_op(ada_card, "mug", first["reservation_id"]))
    assert ack["redeemed"] == 10 and "reason" not in ack


def test_a_consumed_reservation_counts_once(store, program):
    store.save_program(
        2,
        body(
            version=2,
            rewards=[
                {
                    "id": "mug",
                    "name": "Mug",
                    "cost": 10,
                    "kind": "free_item",
                    "sku": "mug",
                    "stock": 2,
                }
            ],
        ),
    )
    program = ProgramBook.load(store).active
    (_ada, ada_card), (bob, bob_card) = new_member(store, 100), new_member(store, 100)
    held = ask(store, program, ada_card, "mug")
    op = redeem_op(ada_card, "mug", held["reservation_id"])
    op["program_version"] = 2
    assert apply(store, op)["redeemed"] == 10
    assert offered(store, program, bob) == ["mug"]  # one left: the sale and its hold are one
    assert ask(store, program, bob_card, "mug", LANE_2)["granted"]
    assert not ask(store, program, ada_card, "mug")["granted"]  # now two: none left


def test_a_lapsed_reservation_frees_the_stock(store, program):
    (_ada, ada_card), (_bob, bob_card) = new_member(store, 100), new_member(store, 100)
    now = time.time()
    held = ask(store, program, ada_card, "mug", now=now, hold_s=60)
    assert not ask(store, program, bob_card, "mug", LANE_2, now=now + 59)["granted"]
    assert ask(store, program, bob_card, "mug", LANE_2, now=now + 61)["granted"]
    # the lapsed one is gone: its late sale is refused like any sale past the stock
    ack = apply(store, redeem_op(ada_card, "mug", held["reservation_id"]))
    assert ack["redeemed"] == 0 and "out of stock" in ack["reason"]


def test_a_released_reservation_frees_the_stock_only_when_its_own_kiosk_releases_it(store, program):
    (_ada, ada_card), (_bob, bob_card) = new_member(store, 100), new_member(store, 100)
    held = ask(store, program, ada_card, "mug")
    release(store, program, held["reservation_id"], LANE_2)  # not the kiosk that holds it
    assert not ask(store, program, bob_card, "mug", LANE_2)["granted"]
    release(store, program, held["reservation_id"], LANE_1)
    assert ask(store, program, bob_card, "mug", LANE_2)["granted"]


def test_the_per_member_limit_counts_the_members_own_reservations(store, program):
    (ada, ada_card), (bob, bob_card) = new_member(store, 100), new_member(store, 100)
    assert ask(store, program, ada_card, "welcome")["granted"]
    again = ask(store, program, ada_card, "welcome", LANE_2)
    assert not again["granted"] and "1 times per member" in again["reason"]
    assert ask(store, program, bob_card, "welcome")["granted"]  # another member's own limit
    assert offered(store, program, ada) == ["mug"] and offered(store, program, bob) == ["mug"]


def test_refusals_say_why(store, program):
    poor, poor_card = new_member(store, 5)
    assert ask(store, program, poor_card, "mug")["reason"].startswith("not_affordable")
    assert ask(store, program, "0A0B0C0D0E0F01", "mug")["reason"].startswith("unknown_member")
    assert ask(store, program, poor_card, "nothing")["reason"].startswith("not_offered")
