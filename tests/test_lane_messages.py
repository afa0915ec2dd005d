"""kiosk.lane_messages: what the POS is told, checked against the contract."""

from display.views import RewardChoice
from drivers.base import Token
from kiosk.customer import Customer, Member
from kiosk.lane_messages import member_message, redemption_apply, redemption_cancel
from mqtt import messages
from program.engine import Reward

BASKET = {"basket_id": "b-1", "currency": "EUR", "total_minor": 1400,
          "items": [{"sku": "coffee", "qty": 4, "unit_minor": 350},
                    {"sku": "cake", "qty": 1, "unit_minor": 420}]}


def test_member_message_for_a_confirmed_member():
    c = Customer(Token("ndef", "C-1", "nfc", verified=True), Member("m-1", "Ada", "gold", 240, True),
                 answered=True, basket_id="b-1")
    body = messages.validate("member", member_message(
        c, 140, 14, [RewardChoice("coffee", "Free coffee", 100, True)]))
    assert body["member"] == {"id": "m-1", "tier": "gold", "name": "Ada", "verified": True}
    assert (body["balance"], body["projected_earn"], body["balance_is_cached"]) == (140, 14, False)
    assert body["rewards"] == [{"reward_id": "coffee", "name": "Free coffee", "cost": 100,
                                "affordable": True}]


def test_member_message_for_an_unconfirmed_card():
    c = Customer(Token("uid", "04AA", "sim"), Member(name="N" * 80), basket_id="b-1")
    body = messages.validate("member", member_message(c, 0, 0, []))
    assert body["member"]["id"] == "unknown" and len(body["member"]["name"]) == 64
    assert body["balance_is_cached"] is True and body["member"]["verified"] is False


def test_redemption_apply_prices_the_discount_on_the_basket():
    fixed = messages.validate("redemption", redemption_apply(BASKET, Reward("c", "Coffee", 100, 250)))
    assert (fixed["action"], fixed["points"], fixed["discount_minor"]) == ("apply", 100, 250)
    assert fixed["currency"] == "EUR" and "sku" not in fixed
    item = redemption_apply(BASKET, Reward("cake", "Free cake", 300, 200, sku="cake"))
    assert item["discount_minor"] == 420 and item["sku"] == "cake"
    tenth = redemption_apply(BASKET, Reward("ten", "10% off", 50, percent=10))
    assert tenth["discount_minor"] == 140


def test_redemption_cancel():
    body = messages.validate("redemption", redemption_cancel("b-1", Reward("c", "Coffee", 100)))
    assert body == {"v": 1, "basket_id": "b-1", "reward_id": "c", "action": "cancel", "points": 100}
