"""A limited reward is reserved at the ledger before the POS is asked for its discount, and
a cancel the POS never heard is settled by the paid basket (docs/pos-integration.md,
"Reservations" and "A cancel the POS did not hear").

Driven like tests/test_session.py (its Counter: a fake clock, recording ports, a real outbox);
the ledger's reserve replies are made here, as the ledger's (tests/test_ledger_reservations.py
checks the ledger's side, tests/test_redemption_broker.py both over a real broker).
"""

import pytest

from display import views as v
from kiosk import events as e
from mqtt import messages, topics
from tests.test_session import Counter
from tests.test_session_redemptions import PROGRAM, answer, hold_coffee, lines


@pytest.fixture
def counter(tmp_path):
    c = Counter(tmp_path)
    c.session = c.new_session(PROGRAM)
    yield c
    c.outbox.close()


def choose_mug(c, basket_id="b-1"):
    c.till("open", items=[("coffee", 4, 350)], basket_id=basket_id)
    c.tap()
    answer(c)  # the ledger lists the mug: one may be left
    c.press("next")
    c.press("next")  # coffee, then the mug
    c.press("select")


def reply(c, granted=True, reservation_id="r-1", reason="", request=None):
    request = request or [s for s in c.of_kind("reserve") if s.body["action"] == "reserve"][-1]
    body = {"v": 1, "reward_id": request.body["reward_id"], "granted": granted}
    body |= {"reservation_id": reservation_id, "expires_in_s": 600} if granted else {}
    body |= {"reason": reason} if reason else {}
    c.handle(
        e.ReserveAnswered(request.correlation.decode(), messages.validate("reserve_reply", body))
    )


def releases(c):
    return [s.body["reservation_id"] for s in c.of_kind("reserve") if s.body["action"] == "release"]


def test_a_limited_reward_is_asked_of_the_ledger_before_the_pos(counter):
    choose_mug(counter)
    (ask,) = counter.of_kind("reserve")
    assert ask.body["action"] == "reserve" and ask.body["reward_id"] == "mug"
    assert ask.body["token"]["value"] == counter.session.customer.token.value
    assert ask.response_topic == topics.reserve_reply("store-1", "kiosk-1")
    messages.validate("reserve_request", ask.body)
    assert not counter.of_kind("redemption"), "the POS is asked only once the ledger granted it"
    reply(counter, reservation_id="r-mug-1")
    (apply,) = counter.of_kind("redemption")
    assert apply.body["reward_id"] == "mug" and apply.body["action"] == "apply"
    assert counter.screen == v.RewardHeld("Mug", 50, 200)
    counter.till("paid", discounts={"mug": 300})
    (op,) = counter.queued()
    assert op["redeem"] == [{"reward_id": "mug", "points": 50, "reservation_id": "r-mug-1"}]
    messages.validate("op", {**op, "kiosk_seq": 1})
    assert releases(counter) == [], "consumed by the op, not given back"


def test_a_sold_out_reward_is_not_asked_of_the_pos_and_the_screen_says_so(counter):
    choose_mug(counter)
    reply(counter, granted=False, reason="sold_out: mug is out of stock (1 redeemed)")
    assert counter.screen == v.ErrorMessage("Sold out")
    assert lines(counter.screen) == ["Sorry", "Sold out"]
    assert not counter.of_kind("redemption") and counter.session.customer.held == []
    assert [r["reward_id"] for r in counter.of_kind("member")[-1].body["rewards"]] == ["coffee"]
    counter.till("paid")
    assert counter.queued()[0]["redeem"] == []


def test_no_answer_in_time_holds_nothing_and_a_late_grant_is_given_back(counter):
    choose_mug(counter)
    counter.tick(1.0)  # past [lookup] timeout_ms
    assert counter.screen == v.ErrorMessage("Rewards need the network now")
    reply(counter, reservation_id="r-late")
    assert not counter.of_kind("redemption") and releases(counter) == ["r-late"]


def test_a_reservation_is_given_back_on_cancel_void_and_an_unconfirmed_paid_basket(counter):
    choose_mug(counter)
    reply(counter, reservation_id="r-cancel")
    counter.press("cancel")
    assert releases(counter) == ["r-cancel"]
    counter.tick(6.0)
    counter.press("next")
    counter.press("next")
    counter.press("select")
    reply(counter, reservation_id="r-void")
    counter.till("void")
    assert releases(counter) == ["r-cancel", "r-void"]
    choose_mug(counter, "b-2")
    reply(counter, reservation_id="r-paid")
    counter.till("paid")  # the POS did not give the mug
    assert releases(counter) == ["r-cancel", "r-void", "r-paid"]
    assert counter.queued()[-1]["redeem"] == []


def test_a_grant_the_pos_cannot_hear_is_given_back(counter):
    choose_mug(counter)
    counter.broker_up = False  # the store broker went away between the ask and the grant
    reply(counter, reservation_id="r-lost")
    assert counter.screen == v.ErrorMessage("Rewards need the network now")
    counter.broker_up = True
    assert counter.session.customer.reservations == {}, "not held: released (or it lapses)"


# -- the lost cancel: the paid basket is the truth --------------------------------------------------
def test_a_cancel_the_pos_did_not_hear_is_redeemed_when_the_member_can_pay(counter):
    hold_coffee(counter)  # balance 250
    counter.broker_up = False  # the cancel is lost
    counter.press("cancel")
    counter.broker_up = True
    counter.till("paid", discounts={"coffee": 250})  # the POS kept the discount
    (op,) = counter.queued()
    assert op["redeem"] == [{"reward_id": "coffee", "points": 100}]
    assert counter.screen == v.PointsAdded(11, 100, 161, kept=("Free coffee",))
    assert "Free coffee: redeemed" in lines(counter.screen)
    assert not counter.of_kind("notice")


def test_a_reward_cancelled_then_taken_again_is_redeemed_once(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    answer(counter, balance=150)
    counter.press("next")
    counter.press("select")
    counter.press("cancel")
    counter.press("select")  # taken again: the POS lists one discount for it
    counter.till("paid", discounts={"coffee": 250})
    (op,) = counter.queued()
    assert op["redeem"] == [{"reward_id": "coffee", "points": 100}], "the held one, once"
    assert counter.screen == v.PointsAdded(11, 100, 61) and not counter.of_kind("notice")


def test_an_unpayable_kept_discount_is_told_to_the_pos(counter):
    counter.till("open", items=[("coffee", 4, 350)])
    counter.tap()
    answer(counter, balance=100)
    counter.press("next")
    counter.press("select")
    counter.press("cancel")  # the cancel goes out; the POS keeps the discount anyway
    counter.handle(
        e.LookupAnswered(
            counter.of_kind("lookup")[-1].correlation.decode(),
            messages.validate(
                "lookup_reply",
                {"v": 1, "found": True, "balance": 40, "member": {"id": "m-bo", "name": "Bo"}},
            ),
        )
    )
    counter.till("paid", discounts={"coffee": 250})
    assert counter.queued()[0]["redeem"] == []
    (notice,) = counter.of_kind("notice")
    assert notice.body["kind"] == "redemption_released" and notice.body["reward_id"] == "coffee"
    assert notice.body["reason"].startswith("not_paid: ")
    messages.validate("notice", notice.body)


def test_a_new_tap_gives_back_what_the_last_one_held(counter):
    choose_mug(counter)
    reply(counter, reservation_id="r-tap")
    counter.tap("04C0C0C0C0C0C0")  # someone else steps up before the basket is paid
    assert releases(counter) == ["r-tap"]
