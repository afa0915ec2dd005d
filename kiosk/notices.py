"""What the POS must know besides who pays: notices (contract v1.1, mqtt/schemas/notice.json).

A refused basket, a declined join, a member who changed or whose ledger id is now known: each
goes to the lane's notice topic, so the POS is never left guessing. The member message goes
through here too, and only when its content changed. Reasons start with a code a POS can
match (``currency_mismatch``, ``op_refused``, ``bad_basket``, ``not_joined``, ...).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable

from kiosk.publisher import Publisher
from mqtt import limits, topics
from mqtt.messages import VERSION, BadMessage

log = logging.getLogger("kiosk.session")  # operators grep one logger for the sale path

REMEMBERED = 64  # refusals told once per basket and reason; older ones may be told again
NOT_JOINED = "not_joined"  # the ledger's reason code for an unknown card that did not join


def notice(basket_id: str, kind: str, reason: str, at: str, **extra: object) -> dict:
    """One notice message; ``reason`` is cut to the contract's limit."""
    return {
        "v": VERSION,
        "basket_id": basket_id,
        "kind": kind,
        "reason": reason[: limits.REASON_CHARS],
        "at": at[: limits.TIME_CHARS],
        **extra,
    }


def basket_refusal(program_currency: str, basket: dict, earn: int) -> str:
    """Why the kiosk cannot take ``basket`` (priced at ``earn`` points), or ""."""
    if basket["currency"] != program_currency:
        return (
            f"currency_mismatch: basket in {basket['currency']}, "
            f"the program prices {program_currency}"
        )
    if earn > limits.POINTS:  # no member, op or ack could carry it
        return f"op_too_large: the basket prices {earn} points, more than {limits.POINTS}"
    return ""


def basket_id_of(payload: bytes) -> str:
    """The basket id a refused basket payload names, when it names a valid one; else ""."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return ""
    basket_id = body.get("basket_id") if isinstance(body, dict) else None
    if isinstance(basket_id, str) and topics.ID_RE.match(basket_id):
        return basket_id
    return ""


class PosNotices:
    """Tells the POS of this lane: member messages when they change, notices once."""

    def __init__(self, out: Publisher, now_iso: Callable[[], str]) -> None:
        self.out = out
        self.now_iso = now_iso
        self._member: dict | None = None  # the last member message sent
        self._told: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def member(self, body: dict) -> None:
        """Send the member message unless the POS already has exactly this one."""
        if body == self._member:
            return
        try:
            sent = self.out.member(body)
        except BadMessage as exc:  # a figure past the contract's limits: the sale goes on
            log.error("member message for basket %s not sent: %s", body["basket_id"], exc)
            return
        if sent:
            self._member = body

    def tell(self, basket_id: str, kind: str, reason: str, level: int = logging.WARNING,
             **extra: object) -> None:
        """Publish one notice (and log it at ``level``); the same basket, kind and reason only
        once."""
        key = (basket_id, kind, reason)
        if key in self._told:
            return
        self._told[key] = None
        if len(self._told) > REMEMBERED:
            self._told.popitem(last=False)
        log.log(level, "basket %s: %s (%s); the POS is told", basket_id, kind, reason)
        self.out.notice(notice(basket_id, kind, reason, self.now_iso(), **extra))

    def after_ack(self, op: dict, ack: dict) -> None:
        """What an ack means for the POS: a declined join, or the member id a new card got."""
        basket_id = op.get("basket_id")
        if not basket_id or op.get("kind") == "refund":  # a refund's outcome: kiosk.returns
            return
        if ack["status"] == "rejected" and ack.get("reason", "").startswith(NOT_JOINED):
            self.tell(basket_id, "join_declined", ack["reason"])
        elif ack["status"] != "rejected" and ack.get("member_id") and not op.get("member_id"):
            extra = {"member_id": ack["member_id"], "points": ack.get("earned", 0)}
            if "balance" in ack:
                extra["balance"] = ack["balance"]
            # Routine, not a problem: one a basket when a backlog of a new card's sales drains,
            # and a log line each cost more than the notice (docs/benchmarks.md, Pi-class).
            self.tell(
                basket_id,
                "member_changed",
                "member_id_assigned: the ledger's id for the card on this basket",
                level=logging.DEBUG,
                **extra,
            )
