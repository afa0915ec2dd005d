"""kiosk.balances: the projected balance, the member cache and the offline redemption limit."""

from kiosk.balances import Balances, held_points, projected_balance, projected_earn
from kiosk.customer import Member
from program.engine import DefaultProgram, Reward

PROGRAM = DefaultProgram(catalogue=(Reward("coffee", "Free coffee", 100),
                                    Reward("cake", "Cake", 250)))


def test_projected_balance_is_last_balance_plus_pending_minus_held():
    assert projected_balance(240, 11, 100) == 151
    assert projected_balance(0, -89, 0) == -89  # a redemption queued offline on a fresh card


def test_held_points_use_the_current_program_and_skip_unknown_rewards():
    assert held_points(PROGRAM, ["coffee", "cake", "retired"]) == 350
    assert held_points(PROGRAM, []) == 0


def test_projected_earn_prices_the_basket():
    basket = {"basket_id": "b-1", "currency": "EUR", "total_minor": 1199, "items": []}
    assert projected_earn(PROGRAM, basket, Member("m-1", balance=5)) == 11
    assert projected_earn(PROGRAM, basket, None) == 11
    assert projected_earn(PROGRAM, None, Member()) == 0


def test_projected_figure_counts_pending_ops_for_this_card_only():
    b = Balances({"uid:04AA": 6})
    assert b.projected("uid:04AA", Member(balance=10), held=0) == 16
    assert b.projected("uid:04BB", Member(balance=10), held=4) == 6
    b.queued("uid:04AA", 3)
    b.acked("uid:04AA", 6)
    assert b.pending_for("uid:04AA") == 3


def test_cache_drops_the_least_recently_answered_member():
    b = Balances({})
    b.remember("a", Member("m-a"), 2)
    b.remember("b", Member("m-b"), 2)
    b.remember("a", Member("m-a", balance=9), 2)  # answered again: now the newest
    b.remember("c", Member("m-c"), 2)
    assert list(b.cache) == ["a", "c"] and b.cached("a").balance == 9 and b.cached("b") is None


def test_cache_keeps_a_copy():
    b = Balances({})
    m = Member("m-a", balance=1)
    b.remember("a", m, 2)
    m.balance = 99
    assert b.cached("a").balance == 1


def test_an_ack_updates_the_cached_member():
    b = Balances({})
    b.remember("a", Member("", "Ada", "gold", 10), 5)
    b.learn_from_ack("a", "m-a", 25, None)
    assert b.cached("a") == Member("m-a", "Ada", "gold", 25, known=True)
    b.learn_from_ack("n", "m-n", 3, "member")
    assert b.cached("n") == Member("m-n", "Member", "member", 3, known=True)


def test_offline_redemption_limit_counts_spent_and_held_points():
    b = Balances({})
    assert b.may_redeem_offline("a", held=200, cost=100, limit=300), "up to the limit is allowed"
    assert not b.may_redeem_offline("a", held=200, cost=101, limit=300)
    b.queued("a", -100, redeemed_offline=100)
    assert not b.may_redeem_offline("a", held=100, cost=101, limit=300)
    assert b.may_redeem_offline("b", held=0, cost=300, limit=300), "per member"
