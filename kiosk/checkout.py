"""Settling a basket the POS has closed: the one op a paid basket becomes, written to the outbox
before anyone is told; what is not confirmed is released; a basket that earns nothing, or that
the kiosk cannot take, is settled without an op and the POS is told why.

A part of kiosk.session's state machine (``Session`` inherits it), kept apart so each file reads in
one sitting; it runs on the session's one thread and uses the session's state.
"""

from __future__ import annotations

import logging

from display import views as v
from kiosk import notices, ops, redemptions
from kiosk.customer import Customer, offers_enrolment, token_key
from kiosk.outbox import OutboxFull
from mqtt import limits, messages

log = logging.getLogger("kiosk.session")  # operators grep one logger for the sale path


class Checkout:
    def _refuse_basket(self, basket_id: str, reason: str) -> None:
        """A basket the kiosk cannot take: the POS is told why, the customer asked for staff."""
        self.pos.tell(basket_id, "basket_refused", reason)
        if self.customer is not None and self.customer.basket_id in ("", basket_id):
            self.screen.show_result(v.ErrorMessage("Basket refused: ask staff"))
            self.ports.signal("error")

    def _settle_paid(self, basket: dict) -> None:
        c = self.customer
        if c is None:
            self._settle_paid_without_member(basket)
            return
        if c.answered and offers_enrolment(c) and not c.enrol:
            self._settle_without_op(basket["basket_id"], "join_declined",
                                    f"{notices.NOT_JOINED}: the card is not a member and the "
                                    "customer did not press select to join",
                                    "Not a member: no points")
            return
        c.held, released = redemptions.confirmed(c.held, basket)  # only what the POS gave
        kept, unpaid = self._kept_at_till(c, basket)
        c.held += kept
        self._release_reservations(c, keep=c.held)
        op = self._sale_op(c, basket)
        key, delta = token_key(c.token), ops.points_delta(op)
        if (why := self._save_op(basket["basket_id"], "paid", op, key, delta)) is not None:
            log.error("op for basket %s NOT saved: %s", basket["basket_id"], why)
            if not isinstance(why, OutboxFull):
                self._settle_without_op(basket["basket_id"], "basket_refused",
                                        f"op_refused: {why}", "Basket refused: ask staff")
            self.ports.signal("error")
            return
        redeemed = ops.redeemed_points(op["redeem"])
        if c.enrol:  # joined on this sale: their page's link when the ledger acks it
            self.links.joined(op["op_id"], c.token, self.ports.monotonic())
        self.balances.queued(key, delta, redeemed if op["offline"] else 0)
        c.held, c.reservations = [], {}  # now in the op (pending points, consumed holds)
        online = self.ports.online()
        log.info("points %s: basket %s op %s earn %d", "added" if online else "saved offline",
                 basket["basket_id"], op["op_id"], op["earn"])
        names = redemptions.release(self.out.notice, self.program, basket["basket_id"], released,
                                    self.ports.now_iso())
        redemptions.release(self.out.notice, self.program, basket["basket_id"], unpaid,
                            self.ports.now_iso(), redemptions.NOT_PAID)
        self.result.preview(op["op_id"], v.PointsAdded(
            op["earn"], redeemed, self.projected_balance(c), saved_offline=not online,
            released=names, kept=tuple(r.name for r in filter(None, map(self.program.reward,
                                                                         kept)))))
        self.ports.signal("reward" if redeemed else "ok")
        self.customer, self.basket = None, None
        self.status.soon()

    def _kept_at_till(self, c: Customer, basket: dict) -> tuple[list[str], list[str]]:
        """(kept, unpaid): rewards cancelled here whose discount the paid basket still carries
        (redemptions.kept_at_till), redeemed while the member's points cover them (the
        customer is told), the rest left unpaid (the POS is told)."""
        budget, kept, unpaid = self.projected_balance(c), [], []
        for reward_id in redemptions.kept_at_till(basket, c.held, c.cancelled):
            reward = self.program.reward(reward_id)
            if reward is not None and reward.cost <= budget:
                budget -= reward.cost
                kept.append(reward_id)
                log.warning("basket %s paid with the discount of %s, cancelled at the kiosk: "
                            "redeemed", basket["basket_id"], reward_id)
            else:
                unpaid.append(reward_id)
        return kept, unpaid

    def _settle_paid_without_member(self, basket: dict) -> None:
        """No member: a basket op, so the ledger's facts see the basket too. A full queue
        keeps its room for points: the basket is settled without it (and said so)."""
        op = ops.basket_op(basket, self._stamp(), self.lane)
        try:
            self.outbox.settle(basket["basket_id"], "paid", op)
        except OutboxFull as exc:
            log.warning("basket %s paid, not reported to the ledger: %s", basket["basket_id"], exc)
            self.outbox.settle(basket["basket_id"], "paid", None)
        self.basket = None
        self.refresh()

    def _settle_without_op(self, basket_id: str, kind: str, reason: str, shown: str) -> None:
        """A paid basket that earns nothing: settled (never retried), the POS told why."""
        if self.customer is not None:
            self._release_reservations(self.customer)
        self.outbox.settle(basket_id, "paid", None)
        self.pos.tell(basket_id, kind, reason)
        self.screen.show_result(v.ErrorMessage(shown))
        self.customer, self.basket = None, None

    def _settle_void(self, basket: dict) -> None:
        if self.customer is not None:
            self._release_holds(self.customer, publish=False)
        self.outbox.settle(basket["basket_id"], "void", None)
        self.customer, self.basket = None, None
        self.refresh()

    def _stamp(self) -> ops.Stamp:
        return ops.Stamp(self.ports.now_iso(), not self.ports.online(), self.ports.clock_synced(),
                         self.program.version)

    def _sale_op(self, c: Customer, basket: dict) -> dict:
        stamp = self._stamp()
        earn = self.projected_earn(stamp.created_at)  # priced at the time the op carries
        return ops.sale_op(c.token, basket, earn,
                           ops.redemptions(self.program, c.held, c.reservations), stamp,
                           enrol=c.enrol, member_id=c.member.member_id, lane=self.lane)

    def _save_op(self, basket_id: str | None, status: str, op: dict, key: str,
                 delta: int) -> OutboxFull | str | None:
        """Write the op durably before anyone is told; a full queue is shown to staff, and an
        op the ledger could never take (messages.op_fits) is not queued: its reason is returned."""
        if why := messages.op_fits({**op, "kiosk_seq": limits.KIOSK_SEQ}):
            return why
        try:
            self.outbox.settle(basket_id, status, op, key, delta)
        except OutboxFull as exc:
            self.screen.show_result(v.Trouble("queue", "Queue full: ask staff"))
            return exc
        return None
