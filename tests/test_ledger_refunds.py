"""Returns and currency at the ledger (contract v1.1), on a real SQLite file and a real
PostgreSQL database: a refund takes back what its lines earned, once; returns the points of the
redemptions it undoes; refuses an unknown basket; and a balance never goes below what the
program's overdraft allows. A basket in a currency the program does not price is refused."""

import uuid
from pathlib import Path

import pytest

from ledger.apply import apply_op
from ledger.batch import apply_batch
from ledger.store import LedgerStore
from program.engine import DefaultProgram
from program.files import check_body, load_file, program_from_body

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "program.toml"
ORIGIN = ("store-1", "kiosk-1", 1)
CARD = "04A1B2C3D4E5F6"
COFFEE = {"sku": "coffee", "qty": 2, "unit_minor": 350, "category": "coffee"}
CAKE = {"sku": "cake", "qty": 1, "unit_minor": 420, "category": "food"}
# Coffee earns double: 2 x 700 + 420 = 1820 weighted, 18 points on 11.20 EUR.
DOUBLE_COFFEE = {
    "version": 2,
    "name": "Test",
    "currency": "EUR",
    "earning": {"categories": {"coffee": 2}},
    "rewards": [
        {
            "id": "coffee",
            "name": "Free coffee",
            "cost": 100,
            "kind": "amount_off",
            "amount_minor": 250,
        },
        {
            "id": "cake",
            "name": "Free cake",
            "cost": 60,
            "kind": "free_item",
            "sku": "cake",
            "amount_minor": 420,
        },
    ],
}


def sale(basket_id="b-1", total=1120, items=(COFFEE, CAKE), **kw):
    body = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "sale",
        "token": {"kind": "uid", "value": CARD, "verified": False},
        "basket_id": basket_id,
        "currency": "EUR",
        "total_minor": total,
        "items": list(items),
        "redeem": [],
        "created_at": "2026-01-01T00:00:00Z",
        "program_version": 2,
    }
    body.update(kw)
    return body


def refund(basket_id="b-1", refund_id="r-1", lines=None, **kw):
    body = {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 2,
        "kind": "refund",
        "basket_id": basket_id,
        "created_at": "2026-01-02T00:00:00Z",
        "program_version": 2,
    }
    if refund_id:
        body["refund_id"] = refund_id
    if lines is not None:
        body["lines"] = [{"sku": s, "qty": q} for s, q in lines]
    body.update(kw)
    return body


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada", [CARD], "ada", opening_balance=150)
    yield s
    s.close()


@pytest.fixture
def program():
    return program_from_body(check_body(DOUBLE_COFFEE))


def apply(store, op, program, origin=ORIGIN):
    with store.transaction():
        return apply_op(store, program, op, origin)


def kinds(store):
    return [(e["kind"], e["points"]) for e in store.history("ada")]


def test_a_basket_in_another_currency_is_refused_and_earns_nothing(store, program):
    ack = apply(store, sale(currency="USD"), program)
    assert ack["status"] == "rejected"
    assert (
        ack["reason"].startswith("currency_mismatch")
        and "USD" in ack["reason"]
        and "EUR" in ack["reason"]
    )
    # An unknown card paying in USD is not enrolled either.
    stranger = sale(currency="USD", token={"kind": "uid", "value": "04BEEF", "verified": False})
    assert apply(store, stranger, program)["status"] == "rejected"
    assert store.balance("ada") == 150 and len(store.members()) == 1
    assert program.prices("EUR") and not program.prices("USD")
    assert DefaultProgram().prices("EUR") and not DefaultProgram().prices("GBP")


def test_the_batch_way_refuses_a_foreign_currency_too(store):
    ops = [sale(currency="USD"), sale(basket_id="b-2")]
    with store.transaction():
        acks = apply_batch(store, lambda op: DefaultProgram(), [(op, ORIGIN) for op in ops])
    assert acks[0]["status"] == "rejected" and "currency_mismatch" in acks[0]["reason"]
    assert acks[1]["status"] == "applied" and store.balance("ada") == 161


def test_whole_refund_takes_back_what_the_sale_earned(store, program):
    assert apply(store, sale(), program)["earned"] == 18
    ack = apply(store, refund(), program)
    assert ack["status"] == "applied" and ack["taken_back"] == 18 and ack["returned"] == 0
    assert ack["balance"] == 150 == store.balance("ada") and ack["shortfall"] == 0
    assert kinds(store)[-1] == ("refund", -18)


def test_partial_refunds_follow_the_lines_multipliers_and_never_exceed_the_sale(store, program):
    apply(store, sale(), program)  # 18 points: coffee 2 x 700 weighted, cake 420
    cake = apply(store, refund(lines=[("cake", 1)]), program)
    assert cake["taken_back"] == 4  # 18 x 420 / 1820 = 4.15
    one_coffee = apply(store, refund(refund_id="r-2", lines=[("coffee", 1)]), program)
    assert one_coffee["taken_back"] == 7  # 18 x (420 + 700) / 1820 = 11.08, less the 4 taken
    rest = apply(store, refund(refund_id="r-3", lines=[("coffee", 5)]), program)
    assert rest["taken_back"] == 7 and "coffee: 4 not refunded" in rest["reason"]
    assert store.balance("ada") == 150  # 4 + 7 + 7 = the 18 earned, exactly


def test_the_same_refund_twice_counts_once_and_a_second_refund_id_takes_nothing_more(
    store, program
):
    apply(store, sale(), program)
    op = refund(lines=[("cake", 1)])
    first = apply(store, op, program)
    assert apply(store, op, program) == {**first, "status": "duplicate"}
    again = apply(store, refund(refund_id="r-2", lines=[("cake", 1)]), program)
    assert again["status"] == "applied" and again["taken_back"] == 0
    assert "cake: 1 not refunded (1 sold, 1 refunded before)" in again["reason"]
    whole = apply(store, refund(refund_id="r-3"), program)
    assert whole["taken_back"] == 18 - 4
    after = apply(store, refund(refund_id="r-4"), program)
    assert after["taken_back"] == 0 and after["reason"] == "already refunded in full"
    assert store.balance("ada") == 150
    assert [k for k, _ in kinds(store)].count("refund") == 2


def test_a_refund_of_an_unknown_basket_is_refused_with_the_reason(store, program):
    apply(store, sale(), program)
    ack = apply(store, refund(basket_id="b-404"), program)
    assert ack["status"] == "rejected" and ack["reason"].startswith("unknown_basket")
    assert "b-404" in ack["reason"]
    # Basket ids are the store's: the same id sold in another store is not this one.
    other = apply(store, refund(), program, origin=("store-2", "kiosk-9", 1))
    assert other["status"] == "rejected" and "store-2" in other["reason"]
    assert store.balance("ada") == 168


def test_a_refund_that_came_before_its_sale_can_be_sent_again(store, program):
    early = refund(basket_id="b-2")
    assert apply(store, early, program)["status"] == "rejected"
    apply(store, sale(basket_id="b-2"), program)
    later = apply(store, early, program)  # the same op_id: tried again, not a repeat
    assert later["status"] == "applied" and later["taken_back"] == 18
    assert apply(store, early, program)["status"] == "duplicate"


def test_redeemed_points_come_back_with_the_discounted_line_or_the_whole_basket(store, program):
    store.adjust("ada", 100, "test: a richer member", "tester")  # 250
    redeem = [{"reward_id": "coffee", "points": 100}, {"reward_id": "cake", "points": 60}]
    sold = apply(store, sale(redeem=redeem, total=450), program)  # 4.50 paid after discounts
    assert sold["redeemed"] == 160 and sold["balance"] == 250 - 160 + 7
    # The free cake is the discounted line: refunding it gives its 60 points back.
    cake = apply(store, refund(lines=[("cake", 1)]), program)
    assert cake["returned"] == 60 and cake["taken_back"] == 2  # 7 x 420 / 1820 = 1.6
    # The amount off covered the whole basket: its 100 come back with the rest of it.
    rest = apply(store, refund(refund_id="r-2"), program)
    assert rest["returned"] == 100 and rest["taken_back"] == 5
    assert store.balance("ada") == 250
    assert ("unredeem", 60) in kinds(store) and ("unredeem", 100) in kinds(store)


def test_a_post_void_refunds_the_whole_basket(store, program):
    apply(store, sale(redeem=[{"reward_id": "coffee", "points": 100}]), program)
    ack = apply(store, refund(refund_id=None), program)
    assert ack["taken_back"] == 18 and ack["returned"] == 100 and store.balance("ada") == 150
    assert kinds(store)[-1][1] == -18 and kinds(store)[-1][0] == "refund"


def test_without_overdraft_a_refund_takes_what_is_there_and_records_the_shortfall(store, program):
    apply(store, sale(), program)  # 168
    apply(
        store,
        sale(
            basket_id="b-2", total=0, items=(), redeem=[{"reward_id": "coffee", "points": 100}] * 1
        ),
        program,
    )  # 68
    store.adjust("ada", -60, "test: spent elsewhere", "tester")  # 8 left
    ack = apply(store, refund(), program)
    assert ack["taken_back"] == 8 and ack["shortfall"] == 10 and ack["balance"] == 0
    assert "shortfall: 10 of 18 points" in ack["reason"]
    assert [r["what"] for r in store.refusals()] == ["refund"]
    # The shortfall is not owed later: the sale's points are refunded, nothing more is taken.
    assert apply(store, refund(refund_id="r-2"), program)["taken_back"] == 0


def test_with_an_overdraft_a_refund_may_take_the_balance_below_zero_that_far(store):
    program = program_from_body(check_body({**DOUBLE_COFFEE, "overdraft_points": 5}))
    apply(store, sale(), program)
    store.adjust("ada", -160, "test: spent elsewhere", "tester")  # 8 left of 168
    ack = apply(store, refund(), program)
    assert ack["taken_back"] == 13 and ack["shortfall"] == 5 and ack["balance"] == -5
    assert store.balance("ada") == -5


def test_refunds_of_sales_applied_the_batch_way(store):
    ops = [sale(basket_id=f"b-{n}", total=1000, items=()) for n in range(3)]
    ops += [refund(basket_id="b-1", refund_id="r-1"), refund(basket_id="b-1", refund_id="r-1b")]
    with store.transaction():
        acks = apply_batch(store, lambda op: DefaultProgram(), [(op, ORIGIN) for op in ops])
    assert [a["earned"] for a in acks[:3]] == [10, 10, 10]
    assert acks[3]["taken_back"] == 10 and acks[4]["taken_back"] == 0
    assert store.balance("ada") == 150 + 20


def test_the_example_in_the_program_guide(store):
    """docs/program.md, Returns: 18 points, then 4, 7 and 7 taken back."""
    program = program_from_body(load_file(EXAMPLE))
    apply(store, sale(basket_id="b-0", items=[CAKE], total=420), program)  # shopped before
    latte = {**COFFEE, "sku": "latte"}
    assert apply(store, sale(items=[latte, CAKE]), program)["earned"] == 18
    taken = [
        apply(store, refund(refund_id=f"r-{n}", lines=[line]), program)["taken_back"]
        for n, line in enumerate([("cake", 1), ("latte", 1), ("latte", 1)])
    ]
    assert taken == [4, 7, 7]
