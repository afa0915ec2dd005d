"""What the kiosk sends the ledger: sale, enrol and basket ops and lookups (mqtt/schemas).

Pure builders: the session decides when, these say what. An op carries the card token as read
(so an offline tap of a never-seen card still earns) and the program version it was priced with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from drivers.base import Token
from mqtt.messages import VERSION
from program.engine import Program


@dataclass(frozen=True)
class Stamp:
    """When and under what conditions an op was made; informational, never used for order."""

    created_at: str  # ISO wall time, trusted only when clock_synced
    offline: bool
    clock_synced: bool
    program_version: int


def token_body(token: Token) -> dict:
    """The token as read, with its proof: the ledger checks that again and takes ``verified``
    only as the kiosk's opinion."""
    body = {"kind": token.kind, "value": token.value, "verified": token.verified}
    if token.proof:
        body["proof"] = dict(token.proof)
    return body


def redemptions(program: Program, held: Iterable[str],
                reservations: dict[str, str] | None = None) -> list[dict]:
    """The held rewards the program still knows, with the points each costs, and the ledger's
    reservation of a limited one (contract v1.1: the ledger consumes it)."""
    found = (program.reward(rid) for rid in held)
    items = [{"reward_id": r.reward_id, "points": r.cost} for r in found if r is not None]
    left = dict(reservations or {})
    for item in items:
        if item["reward_id"] in left:
            item["reservation_id"] = left.pop(item["reward_id"])
    return items


def redeemed_points(redeem: Iterable[dict]) -> int:
    return sum(r["points"] for r in redeem)


def points_delta(op: dict) -> int:
    """What the op will do to the member's balance once applied (0 for an enrolment)."""
    return op.get("earn", 0) - redeemed_points(op.get("redeem", ()))


def _op(kind: str, token: Token, stamp: Stamp, op_id: str | None, **fields: object) -> dict:
    return {"v": VERSION, "op_id": op_id or str(uuid.uuid4()), "kind": kind,
            "token": token_body(token), **fields, "offline": stamp.offline,
            "created_at": stamp.created_at, "clock_synced": stamp.clock_synced,
            "program_version": stamp.program_version}


def _basket_fields(basket: dict, lane: str) -> dict:
    """What the ledger records of a paid basket (its facts, ledger.facts)."""
    return {"basket_id": basket["basket_id"], **({"lane": lane} if lane else {}),
            "currency": basket["currency"], "total_minor": basket["total_minor"],
            "items": basket.get("items", [])}


def sale_op(token: Token, basket: dict, earn: int, redeem: list[dict], stamp: Stamp, *,
            enrol: bool = False, member_id: str = "", op_id: str | None = None,
            lane: str = "") -> dict:
    """The one op a paid basket makes: points earned, rewards redeemed, maybe an enrolment."""
    op = _op("sale", token, stamp, op_id, **_basket_fields(basket, lane), earn=earn,
             redeem=redeem, enrol=enrol)
    if member_id:
        op["member_id"] = member_id
    return op


def basket_op(basket: dict, stamp: Stamp, lane: str, op_id: str | None = None) -> dict:
    """A paid basket with no member attached (contract v1.1): no token, no points; the ledger
    only records it, so a shop's reports see every basket."""
    return {"v": VERSION, "op_id": op_id or str(uuid.uuid4()), "kind": "basket",
            **_basket_fields(basket, lane), "offline": stamp.offline,
            "created_at": stamp.created_at, "clock_synced": stamp.clock_synced,
            "program_version": stamp.program_version}


def enrol_op(token: Token, stamp: Stamp, op_id: str | None = None) -> dict:
    """A card joining with no basket open: the ledger creates the member on apply."""
    return _op("enrol", token, stamp, op_id, enrol=True)


def lookup_request(token: Token, ask_link: bool = False) -> dict:
    """Who holds ``token``; ``ask_link`` (contract v1.3): and a link to their page."""
    body = {"v": VERSION, "token": token_body(token)}
    if ask_link:
        body["ask_link"] = True
    return body
