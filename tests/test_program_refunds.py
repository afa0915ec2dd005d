"""The refund arithmetic (program.refunds), for any basket and any order of partial refunds:
the points taken back never add up to more than the sale earned, and refunding everything takes
back exactly what it earned."""

from hypothesis import given
from hypothesis import strategies as st

from program.engine import Basket, Item, MemberState
from program.files import check_body, program_from_body
from program.refunds import allocate, points_due, rewards_returned, sale_of

PROGRAM = program_from_body(
    check_body(
        {
            "version": 2,
            "name": "Test",
            "currency": "EUR",
            "earning": {"categories": {"coffee": 2, "tobacco": 0}, "max_points_per_basket": 40},
            "promotions": [{"id": "bonus", "name": "Bonus", "bonus_points": 5}],
        }
    )
)

lines = st.lists(
    st.tuples(
        st.sampled_from(["coffee", "tobacco", "food"]), st.integers(1, 5), st.integers(0, 2000)
    ),
    min_size=1,
    max_size=6,
)


@given(lines, st.data())
def test_partial_refunds_add_up_to_the_sale_at_most_and_exactly_when_all_is_back(items, data):
    basket = Basket(
        "b-1",
        "EUR",
        sum(q * u for _, q, u in items),
        tuple(Item(f"{c}-{n}", q, u, c) for n, (c, q, u) in enumerate(items)),
    )
    sale = sale_of(PROGRAM, basket, PROGRAM.quote(basket, MemberState()), ())
    refunded, taken = [0] * len(sale.lines), 0
    while any(r < ln.qty for r, ln in zip(refunded, sale.lines, strict=True)):
        n = data.draw(
            st.sampled_from([i for i, ln in enumerate(sale.lines) if refunded[i] < ln.qty])
        )
        adds, notes = allocate(sale, refunded, [(sale.lines[n].sku, data.draw(st.integers(1, 3)))])
        refunded = [r + a for r, a in zip(refunded, adds, strict=True)]
        due = points_due(sale, refunded)
        assert taken <= due <= sale.earned  # never gives points, never over the sale
        taken = due
    assert taken == sale.earned


def test_a_tobacco_line_that_earned_nothing_takes_nothing_back():
    basket = Basket(
        "b-1", "EUR", 2000, (Item("cig", 1, 1000, "tobacco"), Item("latte", 1, 1000, "coffee"))
    )
    sale = sale_of(PROGRAM, basket, PROGRAM.quote(basket, MemberState()), ())
    assert sale.earned == 25 and sale.line_points == 20  # 20 base (coffee 2x), 5 bonus
    assert points_due(sale, [1, 0]) == 3  # no line points; half the bonus by value, rounded
    assert points_due(sale, [0, 1]) == 23


def test_a_basket_sold_without_lines_is_refunded_whole_only():
    basket = Basket("b-1", "EUR", 1000)
    sale = sale_of(PROGRAM, basket, PROGRAM.quote(basket, MemberState()), ())
    adds, notes = allocate(sale, [0], [("coffee", 1)])
    assert adds == [0] and notes == ["coffee was not sold in this basket"]
    assert allocate(sale, [0], None) == ([1], []) and points_due(sale, [1]) == sale.earned
    assert rewards_returned(sale, [1]) == []
