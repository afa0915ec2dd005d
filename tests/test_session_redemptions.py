"""The counter tells the truth: points are spent only for a discount the POS confirmed in the
paid basket, the rewards offered are the ledger's, and the result screen is the kiosk's preview
(marked) until the ledger's ack replaces it.

Driven like tests/test_session.py (its Counter: a fake clock, recording ports, a real outbox).
"""

import pytest

from display import views as v
from display.screens import layout
from kiosk import events as e
from kiosk import redemptions
from mqtt import messages, topics
from program.engine import DefaultProgram, MemberState, Reward
from tests.test_session import CARD, Counter

COFFEE = Reward("coffee", "Free coffee", 100, 250)
LIMITED = Reward("mug", "Mug", 50, 300, stock=1)  # one left in all: only the ledger knows
PROGRAM = DefaultProgram(catalogue=(COFFEE, LIMITED))


@pytest.fixture
def counter(tmp_path):
    c = Counter(tmp_path)
    c.session = c.new_session(PROGRAM)
    yield c
    c.outbox.close()


def answer(c, balance=250, rewards=("coffee", "mug")):
    """The ledger's lookup reply, listing the rewards it still offers this member."""
    request = c.of_kind("lookup")[-1]
    reply = {"v": 1, "found": True, "member": {"id": "m-bo", "name": "Bo", "tier": "member"},
             "balance": balance,
             "rewards": [{"reward_id": r, "name": r, "cost": 1} for r in rewards]}
    c.handle(e.LookupAnswered(request.correlation.decode(),
                              messages.validate("lookup_reply", reply)))


def hold_coffee(c):
    c.till("open", items=[("coffee", 4, 350)])
    c.tap()
    answer(c)
    c.press("next")
    c.press("select")
    assert c.screen == v.RewardHeld("Free coffee", 100, 150)


def lines(view):
    return layout(view, (128, 128), "RGB").lines()


# -- 1. the POS must confirm the discount ---------------------------------------------------
def test_a_pos_that_ignores_the_redemption_spends_no_points(counter):
    hold_coffee(counter)
    counter.till("paid")  # full 14.00: no discount given, none carried
    (op,) = counter.queued()
    assert op["redeem"] == [] and op["earn"] == 14
    assert counter.screen == v.PointsAdded(14, 0, 264, released=("Free coffee",))
    assert "Free coffee: points kept" in lines(counter.screen)
    (notice,) = counter.of_kind("notice")
    assert notice.topic == topics.notice("store-1", "lane-1")
    assert notice.body["kind"] == "redemption_released" and notice.body["reward_id"] == "coffee"
    assert notice.body["points"] == 100 and notice.body["reason"].startswith("not_confirmed")
    messages.validate("notice", notice.body)


def test_a_pos_that_confirms_the_discount_gets_the_points_spent(counter):
    hold_coffee(counter)
    counter.till("paid", discounts={"coffee": 250})
    (op,) = counter.queued()
    assert op["redeem"] == [{"reward_id": "coffee", "points": 100}] and op["earn"] == 11
    # 2. counted once: 250 - 100 + 11, not 61 (main also subtracted the reward as still held)
    assert counter.screen == v.PointsAdded(11, 100, 161)
    assert not counter.of_kind("notice")


def test_a_reward_carried_once_confirms_one_of_two_holds():
    kept, released = redemptions.confirmed(["coffee", "coffee", "mug"],
                                           {"discounts": [{"reward_id": "coffee",
                                                           "discount_minor": 250}]})
    assert kept == ["coffee"] and released == ["coffee", "mug"]
    assert redemptions.confirmed(["coffee"], {"basket_id": "b-1"}) == ([], ["coffee"]), "v1 basket"


# -- 13. a redemption the POS never heard of ---------------------------------------------------
def test_a_reward_chosen_while_the_broker_is_down_is_not_held(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    answer(counter)
    counter.broker_up = False  # publish fails: the POS cannot hear the request
    counter.press("next")
    counter.press("select")
    assert counter.screen == v.ErrorMessage("Rewards need the network now")
    assert counter.signals[-1] == "error" and counter.session.customer.held == []
    counter.broker_up = True
    counter.till("paid", discounts={"coffee": 250})  # even a POS that claims it: not held
    assert counter.queued()[0]["redeem"] == []


# -- 3. the ledger's word replaces the preview ------------------------------------------------
def pay_online(c, balance=100):
    c.till("open", items=[("coffee", 1, 3600)])
    c.tap()
    answer(c, balance=balance)
    c.till("paid")
    c.batch_done()
    return c.of_kind("ops")[-1].body["op_id"]


def test_the_preview_is_marked_until_the_ack_brings_the_ledgers_figures(counter):
    op_id = pay_online(counter)
    preview = counter.screen
    assert preview == v.PointsAdded(36, 0, 136) and not preview.confirmed
    assert lines(preview)[1:] == ["about +36 pts", "Balance about 136", "To be confirmed"]
    # the ledger's history-based rules gave more than the kiosk could preview
    counter.ack(op_id, member_id="m-bo", balance=201, tier="gold", earned=101, redeemed=0)
    assert counter.screen == v.PointsAdded(101, 0, 201, confirmed=True, tier="gold")
    assert lines(counter.screen)[1:] == ["+101 pts", "Balance 201", "gold"]
    counter.tick(6.0)
    counter.tap()
    assert counter.screen.balance == 201, "the cache took the ack's balance"


def test_a_rejected_op_says_not_applied_with_the_reason(counter):
    op_id = pay_online(counter)
    counter.ack(op_id, status="rejected", reason="unknown card")
    assert counter.screen == v.NotApplied("unknown card")
    assert lines(counter.screen) == ["Not applied", "unknown card", "No points added"]
    counter.tap()
    assert counter.screen.balance == 100, "nothing pending any more"


def test_an_ack_after_the_customer_moved_on_leaves_the_screen_alone(counter):
    op_id = pay_online(counter)
    counter.tap()  # the next customer
    shown = counter.screen
    counter.ack(op_id, member_id="m-bo", balance=201, earned=101, redeemed=0)
    assert counter.screen is shown


def test_an_offline_result_stays_a_preview(tmp_path):
    c = Counter(tmp_path, online=False)
    c.till("open", items=[("coffee", 1, 350)])
    c.tap()
    c.till("paid")
    assert c.screen == v.PointsAdded(3, 0, 3, saved_offline=True)
    shown = lines(c.screen)
    assert shown[1:3] == ["about +3 pts", "Balance about 3"] and shown[3].startswith("Will be")


# -- 4. the rewards offered are the ledger's --------------------------------------------------------
def names(c):
    return [r.reward_id for r in c.screen.rewards]


def test_a_sold_out_reward_the_ledger_leaves_out_is_not_offered(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    assert names(counter) == ["coffee"], "not answered yet: no limited reward"
    answer(counter, rewards=("coffee",))  # the mug's one is used: the ledger leaves it out
    assert names(counter) == ["coffee"]
    counter.press("next")
    counter.press("next")
    counter.press("select")
    assert [s.body["reward_id"] for s in counter.of_kind("redemption")] == ["coffee"]


def test_a_limited_reward_the_ledger_lists_is_offered_online_only(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    answer(counter)
    assert names(counter) == ["coffee", "mug"]
    counter.link_up = False
    counter.press("next")  # a refresh while the uplink is down
    assert names(counter) == ["coffee"]
    counter.press("cancel")
    counter.press("cancel")
    counter.tap(CARD)  # offline, from the cache
    assert names(counter) == ["coffee"]


def test_offered_follows_the_program_and_the_reply():
    ids = lambda rs: [r.reward_id for r in rs]  # noqa: E731
    state = MemberState("m-1", 500)
    assert ids(redemptions.offered(PROGRAM, state, None, True)) == ["coffee"]
    assert ids(redemptions.offered(PROGRAM, state, ("mug",), True)) == ["mug"]
    assert ids(redemptions.offered(PROGRAM, state, ("mug", "coffee"), False)) == ["coffee"]
    assert ids(redemptions.offered(PROGRAM, state, ("cake",), True)) == [], "not in the program"
    assert ids(redemptions.offered(PROGRAM, state, ("mug", "coffee"), True, ["mug", "coffee"])) \
        == ["coffee"], "a limited reward is held once at most"
