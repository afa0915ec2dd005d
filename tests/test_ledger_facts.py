"""Facts (ledger.facts) on a real SQLite file and a real PostgreSQL database: every paid basket
an op reports becomes one row, with or without a member, on the per-op way and the batch way
alike; a repeated op adds nothing; returns are readable per basket line."""

import uuid

import pytest

from ledger import facts
from ledger.apply import apply_op
from ledger.batch import apply_batch
from ledger.store import LedgerStore
from program.files import check_body, program_from_body
from tests.test_ledger_refunds import CAKE, CARD, COFFEE, DOUBLE_COFFEE, refund, sale

ORIGIN = ("store-1", "kiosk-1", 1)
PERIOD = ("2026-01-01T00:00:00", "2026-02-01T00:00:00")


def basket_op(basket_id: str, total: int = 840, items=(COFFEE,), **kw) -> dict:
    return {
        "v": 1,
        "op_id": str(uuid.uuid4()),
        "kiosk_seq": 1,
        "kind": "basket",
        "basket_id": basket_id,
        "lane": "lane-2",
        "currency": "EUR",
        "total_minor": total,
        "items": list(items),
        "created_at": "2026-01-05T10:00:00.000+00:00",
        "clock_synced": True,
        "program_version": 2,
        **kw,
    }


def the_ops() -> list[dict]:
    """A member's plain sale, a member's sale with a reward, a sale of an unknown card (the
    strict program refuses it: the basket was paid anyway) and a basket with no member."""

    def at(minute: int) -> dict:
        return {"created_at": f"2026-01-05T09:0{minute}:00.000+00:00", "clock_synced": True}

    stranger = {"kind": "uid", "value": "04BEEF01", "verified": False}
    return [
        sale("b-1", lane="lane-1", **at(1)),
        sale("b-2", redeem=[{"reward_id": "coffee", "points": 100}], **at(2)),
        sale("b-3", token=stranger, **at(3)),
        basket_op("b-4", **at(4)),
        basket_op("b-5", total=0, items=(), **at(5)),
    ]


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada", [CARD], "ada", opening_balance=150)
    yield s
    s.close()


@pytest.fixture
def program():
    body = check_body({**DOUBLE_COFFEE, "unknown_token": "reject"})
    return program_from_body(body)


def one_by_one(store, program, ops):
    results = []
    for op in ops:
        with store.transaction():
            results.append(apply_op(store, program, op, ORIGIN))
    return results


def in_a_batch(store, program, ops):
    with store.transaction():
        return apply_batch(store, lambda op: program, [(op, ORIGIN) for op in ops])


@pytest.mark.parametrize("way", [one_by_one, in_a_batch])
def test_every_paid_basket_is_one_fact_with_or_without_a_member(store, program, way):
    ops = the_ops()
    results = way(store, program, ops + ops[::-1])  # every op twice
    assert [r["status"] for r in results[:5]] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
    ]
    found = facts.baskets(store, *PERIOD)
    assert [(b.basket_id, b.member_id) for b in found] == [
        ("b-1", "ada"),
        ("b-2", "ada"),
        ("b-3", None),
        ("b-4", None),
        ("b-5", None),
    ]
    b1, b2, _b3, b4, b5 = found
    assert (b1.store, b1.lane, b1.kiosk, b1.currency, b1.total_minor) == (
        "store-1",
        "lane-1",
        "kiosk-1",
        "EUR",
        1120,
    )
    assert b1.at == "2026-01-05T09:01:00.000+00:00" and b1.clock_synced
    assert [(ln.sku, ln.category, ln.qty, ln.unit_minor) for ln in b1.lines] == [
        ("coffee", "coffee", 2, 350),
        ("cake", "food", 1, 420),
    ]
    assert b2.discount_minor == 250 and b2.discounts == (facts.Discount("coffee", 250, 100),)
    assert (b4.lane, b4.total_minor, len(b4.lines), b5.lines) == ("lane-2", 840, 1, ())
    assert sum(b.total_minor for b in found) == 1120 * 3 + 840
    assert [b.basket_id for b in facts.baskets(store, *PERIOD, member_id="ada")] == ["b-1", "b-2"]
    assert facts.baskets(store, *PERIOD, store="store-2") == []
    assert len(facts.lines(store, *PERIOD)) == 2 + 2 + 2 + 1


def test_a_basket_op_moves_no_points_and_needs_no_member(store, program):
    (ack,) = one_by_one(store, program, [basket_op("b-9")])
    assert ack == {"v": 1, "op_id": ack["op_id"], "status": "applied"}
    assert store.balance("ada") == 150 and len(store.members()) == 1


def test_a_kiosk_clock_not_synced_dates_the_basket_when_the_ledger_recorded_it(store, program):
    one_by_one(
        store,
        program,
        [basket_op("b-9", created_at="1970-01-01T00:00:09.000+00:00", clock_synced=False)],
    )
    (b,) = facts.baskets(store, "2000-01-01", "2999-01-01")
    assert not b.clock_synced and b.at > "2020"


def test_returns_are_readable_per_basket_line(store, program):
    first = sale("b-1", created_at="2026-01-05T09:00:00.000+00:00", clock_synced=True)
    one_by_one(
        store,
        program,
        [
            first,
            refund("b-1", "r-1", lines=[("coffee", 1)]),
            refund("b-1", "r-2", lines=[("cake", 1)]),
        ],
    )
    # two refunds applied in the same millisecond come in op_id order: sort by what the POS named
    found = sorted(facts.returns(store, "2000-01-01", "2999-01-01", store="store-1"),
                   key=lambda r: r.refund_id)
    assert [
        (r.refund_id, r.sale_op_id, r.basket_id, r.line_no, r.sku, r.qty, r.value_minor)
        for r in found
    ] == [
        ("r-1", first["op_id"], "b-1", 0, "coffee", 1, 350),
        ("r-2", first["op_id"], "b-1", 1, "cake", 1, 420),
    ]
    assert all(r.points_taken > 0 for r in found)
    (basket,) = facts.baskets(store, *PERIOD)
    assert basket.lines[found[1].line_no].sku == CAKE["sku"]  # line_no is the basket's line
    assert facts.returns(store, "2000-01-01", "2999-01-01", store="store-2") == []
