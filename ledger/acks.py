"""The ack the ledger returns for each op (mqtt/schemas/ack.json), built in one place.

The per-op way (ledger.apply) and the batch way (ledger.batch) must answer alike, and an
answer is also what the ``ops`` table keeps under the op_id to answer a repeat with.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_REASON = 200  # the schema's maxLength


def applied(
    op_id: str,
    member_id: str,
    balance: int,
    tier: str,
    earned: int,
    redeemed: int,
    refused: Sequence[str] = (),
) -> dict:
    """An op applied; ``refused``: the redemptions it asked for that were not made."""
    ack = {
        "v": 1,
        "op_id": op_id,
        "status": "applied",
        "member_id": member_id,
        "balance": balance,
        "tier": tier,
        "earned": earned,
        "redeemed": redeemed,
    }
    if refused:
        ack["reason"] = ("refused: " + "; ".join(refused))[:MAX_REASON]
    return ack


def refunded(
    op_id: str,
    member_id: str,
    balance: int,
    tier: str,
    taken_back: int,
    returned: int,
    shortfall: int,
    notes: Sequence[str] = (),
) -> dict:
    """A refund applied: points taken back, redeemed points returned, what the balance could
    not cover; ``notes``: what it asked for that was not refunded, and why."""
    ack = {**applied(op_id, member_id, balance, tier, 0, 0), "taken_back": taken_back,
           "returned": returned, "shortfall": shortfall}
    if notes:
        ack["reason"] = "; ".join(notes)[:MAX_REASON]
    return ack


def recorded(op_id: str) -> dict:
    """A basket op recorded: no member, no points (ledger.facts)."""
    return {"v": 1, "op_id": op_id, "status": "applied"}


def rejected(op_id: str, reason: str) -> dict:
    """An op that could not be applied at all, and why."""
    return {"v": 1, "op_id": op_id, "status": "rejected", "reason": reason[:MAX_REASON]}


def repeated(first: dict) -> dict:
    """The ack for an op_id seen before: its first ack, as duplicate (or rejected again, so
    a kiosk whose first ack was lost still learns of the refusal)."""
    status = "rejected" if first["status"] == "rejected" else "duplicate"
    return {**first, "status": status}
