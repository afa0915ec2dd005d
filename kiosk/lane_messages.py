"""What the kiosk tells the POS of its lane: who is paying, and which rewards to apply or cancel."""

from __future__ import annotations

from collections.abc import Iterable

from display.views import RewardChoice
from kiosk.customer import Customer
from mqtt.messages import VERSION
from program.engine import Basket, Reward


def member_message(c: Customer, balance: int, projected_earn: int,
                   rewards: Iterable[RewardChoice]) -> dict:
    """The member attached to basket ``c.basket_id``, with figures marked cached until answered."""
    member = {"id": c.member.member_id or "unknown", "tier": c.member.tier,
              "name": c.member.name[:64], "verified": c.token.verified}
    return {"v": VERSION, "basket_id": c.basket_id, "member": member, "balance": balance,
            "projected_earn": projected_earn, "balance_is_cached": not c.answered,
            "rewards": [{"reward_id": r.reward_id, "name": r.name, "cost": r.cost,
                         "affordable": r.affordable} for r in rewards]}


def redemption_apply(basket: dict, reward: Reward) -> dict:
    """Ask the POS to take the reward's discount off ``basket`` (final only once it is paid)."""
    msg = {"v": VERSION, "basket_id": basket["basket_id"], "reward_id": reward.reward_id,
           "action": "apply", "points": reward.cost,
           "discount_minor": reward.discount_for(Basket.from_message(basket, "")),
           "currency": basket["currency"]}
    if reward.sku:
        msg["sku"] = reward.sku
    return msg


def redemption_cancel(basket_id: str, reward: Reward) -> dict:
    return {"v": VERSION, "basket_id": basket_id, "reward_id": reward.reward_id,
            "action": "cancel", "points": reward.cost}
