"""kiosk.screen_choice: which screen fits the moment."""

from display import views as v
from drivers.base import Token
from kiosk.customer import Customer, Member
from kiosk.screen_choice import (
    Counter,
    customer_view,
    idle_view,
    next_affordable,
    reward_choices,
    technician_view,
)
from program.engine import DefaultProgram, Reward

PROGRAM = DefaultProgram(catalogue=(Reward("coffee", "Free coffee", 100),
                                    Reward("cake", "Cake", 250), Reward("mug", "Mug", 120)))
BASKET = {"basket_id": "b-1", "currency": "EUR", "total_minor": 1120}


def test_rewards_are_affordable_up_to_the_balance():
    choices = reward_choices(PROGRAM, Member("m-1"), 120)
    assert [(c.reward_id, c.affordable) for c in choices] == [("coffee", True), ("cake", False),
                                                              ("mug", True)]


def test_next_goes_to_the_next_affordable_reward_and_wraps():
    choices = reward_choices(PROGRAM, Member(), 120)
    assert next_affordable(choices, -1) == 0
    assert next_affordable(choices, 0) == 2, "skips the cake"
    assert next_affordable(choices, 2) == 0
    assert next_affordable(reward_choices(PROGRAM, Member(), 10), -1) == -1


def test_customer_view_for_a_member():
    c = Customer(Token("ndef", "C-1", "nfc", verified=True), Member("m-1", "Ada", "gold", 240, True),
                 answered=True, selected=1)
    view = customer_view(c, 140, 11, 6, ())
    assert view == v.MemberRecognised("Ada", 140, "gold", projected_earn=11, pending=6,
                                      selected=1)


def test_customer_view_marks_plain_uids_and_unanswered_figures():
    c = Customer(Token("uid", "04AA", "sim"), Member(name="Card ...04AA"))
    view = customer_view(c, 0, 0, 0, ())
    assert view.unverified and view.balance_is_cached


def test_unknown_card_gets_the_enrolment_offer_until_it_joins():
    c = Customer(Token("uid", "04AA", "sim"), Member(name="Card ...04AA"), answered=True)
    assert customer_view(c, 0, 0, 0, ()) == v.EnrolOffer()
    c.enrol = True
    assert isinstance(customer_view(c, 0, 0, 0, ()), v.MemberRecognised)
    offline = Customer(Token("uid", "04AB", "sim"), Member(), maybe_new=True)
    assert customer_view(offline, 0, 0, 0, ()) == v.EnrolOffer()


def test_idle_screen_order():
    assert idle_view(Counter("Beans", True, 0, False)) == v.Idle("Beans")
    assert idle_view(Counter("Beans", False, 0, False)) == v.Idle("Beans", offline=True)
    assert idle_view(Counter("Beans", False, 3, False)) == v.Offline(3)
    assert idle_view(Counter("Beans", False, 3, False, BASKET, 11)) == v.BasketTotal(1120, "EUR", 11)
    assert idle_view(Counter("Beans", False, 9, True, BASKET, 11)) == v.Trouble("queue",
                                                                               "9 ops waiting")


def test_technician_view():
    view = technician_view("k-1", "s-1/l-1", "uplink offline", 4, {"nfc": "ok", "qr": "unplugged"})
    assert view == v.Technician("k-1", "s-1/l-1", "uplink offline", 4,
                                ("nfc: ok", "qr: unplugged"))
