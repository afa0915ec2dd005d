"""Reserving a limited reward at the ledger before the POS is asked for its discount.

A reward with a stock or a per-member limit is offered only online, from the ledger's lookup; two
lanes could still both give the last one. So when the customer selects one, the kiosk asks the
ledger to hold it (a reserve request on the kiosk's own topic, answered on its reserve-reply
topic) and asks the POS for the discount only when the ledger granted it; otherwise the screen
says "Sold out". The sale op carries the reservation's id (the ledger consumes it); a reward
cancelled, voided, switched away or not confirmed by the paid basket is given back, and one
whose release is lost lapses at the ledger.

A part of kiosk.session's state machine (``Session`` inherits it), like kiosk.checkout.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from display import views as v
from kiosk import events as e
from kiosk import ops
from kiosk.customer import Customer
from mqtt.messages import VERSION
from program.engine import Reward

log = logging.getLogger("kiosk.session")  # operators grep one logger for the sale path

SOLD_OUT = "Sold out"
NEED_NETWORK = "Rewards need the network now"


def reserve_request(c: Customer, reward_id: str, basket_id: str) -> dict:
    return {
        "v": VERSION,
        "action": "reserve",
        "reward_id": reward_id,
        "basket_id": basket_id,
        "token": ops.token_body(c.token),
    }


def release_request(reward_id: str, reservation_id: str) -> dict:
    return {
        "v": VERSION,
        "action": "release",
        "reward_id": reward_id,
        "reservation_id": reservation_id,
    }


class Reserving:
    def _ask_reserve(self, c: Customer, reward: Reward) -> None:
        """Ask the ledger to hold ``reward``; the POS is asked when the grant arrives."""
        if c.reserving is not None:
            return  # one question at a time: the answer is on its way
        correlation = uuid.uuid4().hex
        body = reserve_request(c, reward.reward_id, self.basket["basket_id"])
        if not self.out.reserve(body, correlation.encode()):
            log.warning("reservation of %s not sent: the broker is unreachable", reward.reward_id)
            self._refuse_reward(NEED_NETWORK)
            return
        deadline = self.ports.monotonic() + self.cfg["lookup"]["timeout_ms"] / 1000
        c.reserving = (reward.reward_id, correlation, deadline)

    def on_ReserveAnswered(self, ev: e.ReserveAnswered) -> None:
        c, msg = self.customer, ev.msg
        waiting = c.reserving if c is not None else None
        if waiting is None or (ev.correlation, msg["reward_id"]) != (waiting[1], waiting[0]):
            if msg["granted"] and "reservation_id" in msg:  # nobody waits for it any more
                self._give_back(msg["reward_id"], msg["reservation_id"])
            return
        c.reserving = None
        reward = self.program.reward(msg["reward_id"])
        granted = msg["granted"] and "reservation_id" in msg
        if not granted or reward is None or self.basket is None:
            if granted:
                self._give_back(msg["reward_id"], msg["reservation_id"])
            log.info("reward %s not reserved: %s", msg["reward_id"], msg.get("reason", "-"))
            c.listed = tuple(r for r in (c.listed or ()) if r != msg["reward_id"])
            self._attach()  # the POS's list loses it too
            self._refuse_reward(SOLD_OUT)
            return
        c.reservations[reward.reward_id] = msg["reservation_id"]
        self._ask_pos(c, reward)

    def _reserve_overdue(self, now: float) -> None:
        """No answer in time: nothing is held; a late grant is given back when it arrives."""
        c = self.customer
        if c is not None and c.reserving is not None and now >= c.reserving[2]:
            log.warning("reservation of %s not answered in time", c.reserving[0])
            c.reserving = None
            self._refuse_reward(NEED_NETWORK)

    def _refuse_reward(self, why: str) -> None:
        self.screen.show_result(v.ErrorMessage(why))
        self.ports.signal("error")

    def _release_reservations(self, c: Customer, keep: Iterable[str] = ()) -> None:
        """Give back what ``c`` holds at the ledger, except the rewards in ``keep``."""
        kept = set(keep)
        for reward_id in [r for r in c.reservations if r not in kept]:
            self._give_back(reward_id, c.reservations.pop(reward_id))

    def _give_back(self, reward_id: str, reservation_id: str) -> None:
        if not self.out.release(release_request(reward_id, reservation_id)):
            log.warning(
                "release of reservation %s not sent: it lapses at the ledger", reservation_id
            )
