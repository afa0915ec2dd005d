"""Which rewards the kiosk offers, and which held ones a paid basket confirms.

Points are spent only for a discount the POS confirmed: the paid basket lists it in ``discounts``
(contract v1.1). A held reward the basket does not carry is released, and the POS is told
(a ``redemption_released`` notice), so it never counts as spent for a discount never given.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from mqtt.messages import VERSION
from program.engine import MemberState, Program, Reward

log = logging.getLogger("kiosk.session")  # operators grep one logger for the sale path

NOT_CONFIRMED = "not_confirmed: the paid basket does not carry this discount"
NOT_PAID = ("not_paid: the reward was cancelled at the kiosk and the member's points do not"
            " cover it; the discount was given without points")


def confirmed(held: Sequence[str], basket: dict) -> tuple[list[str], list[str]]:
    """(confirmed, released): the held reward ids the paid ``basket`` carries a discount for,
    each at most as often as it is listed, and the rest, in the order they were held."""
    listed = Counter(d["reward_id"] for d in basket.get("discounts", ()))
    kept, released = [], []
    for reward_id in held:
        if listed[reward_id] > 0:
            listed[reward_id] -= 1
            kept.append(reward_id)
        else:
            released.append(reward_id)
    return kept, released


def kept_at_till(basket: dict, held: Sequence[str], cancelled: Sequence[str]) -> list[str]:
    """Rewards cancelled on this basket whose discount the paid basket still carries beyond
    the ``held`` ones: a cancel the POS never heard (or ignored). The paid basket is the truth:
    the customer got the discount."""
    left = Counter(d["reward_id"] for d in basket.get("discounts", ()))
    left.subtract(Counter(held))
    kept = []
    for reward_id in cancelled:
        if left[reward_id] > 0:
            left[reward_id] -= 1
            kept.append(reward_id)
    return kept


def listed(lookup_reply: dict) -> tuple[str, ...] | None:
    """The reward ids a found member's lookup reply offers (None from a ledger that lists none)."""
    if "rewards" not in lookup_reply:
        return None
    return tuple(r["reward_id"] for r in lookup_reply["rewards"])


def offers(lookup_reply: dict) -> dict[str, str]:
    """Offer id -> name: the member's personal offers the lookup reply lists (contract v1.1;
    none from a ledger that sends no ``offers``)."""
    return {o["offer_id"]: o["name"] for o in lookup_reply.get("offers", ())}


def limited(reward: Reward) -> bool:
    """Only the ledger can tell whether it is left: stock, or a count per member."""
    return bool(reward.stock or reward.limit_per_member)


def offered(program: Program, state: MemberState, listed: Iterable[str] | None,
            online: bool, held: Sequence[str] = ()) -> list[Reward]:
    """The rewards to offer: those of the program the ledger's latest lookup reply lists
    (``listed``; None when it has not answered), and offline or unanswered none that is
    limited (a sold-out or used-up one would be refused after the POS gave the discount).
    A limited reward already ``held`` is not offered again: the ledger listed it as left,
    not how many times."""
    rewards = [r for r in program.rewards(state) if not (limited(r) and r.reward_id in held)]
    if listed is not None:
        ids = set(listed)
        rewards = [r for r in rewards if r.reward_id in ids]
    if listed is None or not online:
        rewards = [r for r in rewards if not limited(r)]
    return rewards


def released_notice(basket_id: str, reward: Reward, at: str,
                    reason: str = NOT_CONFIRMED) -> dict:
    """Tell the POS a held reward was not redeemed: no points were spent for it."""
    return {"v": VERSION, "basket_id": basket_id, "kind": "redemption_released",
            "reason": reason, "reward_id": reward.reward_id, "points": reward.cost, "at": at}


def release(notify: Callable[[dict], bool], program: Program, basket_id: str,
            released: Iterable[str], at: str, reason: str = NOT_CONFIRMED) -> tuple[str, ...]:
    """Held rewards the paid basket does not carry (or, with ``NOT_PAID``, carries but the
    member cannot pay for): no points are spent for them, the POS is told (``notify``:
    Publisher.notice). Returns their names for the customer's screen."""
    names = []
    for reward in filter(None, map(program.reward, released)):
        log.warning("basket %s paid: %s released (%s)", basket_id, reward.reward_id,
                    reason.split(":")[0])
        if not notify(released_notice(basket_id, reward, at, reason)):
            log.warning("notice for basket %s not sent: the broker is unreachable", basket_id)
        names.append(reward.name)
    return tuple(names)
