"""What the counter does for a blocked member or a blocked card (a replaced, lost one).

A blocked member's lookup says so (the kiosk shows it) and their ops are rejected with reason
``member_blocked``; a blocked card's likewise with ``card_blocked`` (it never enrols anyone new).
Except an op made before the block: the customer never loses points earned before it. An op
counts as made before the block when its ``created_at`` is a timestamp with a zone, earlier
than the block, from a kiosk whose clock was synchronised (``clock_synced`` not false). Without
a clock to trust, the op is rejected like any other after the block: the refusal is recorded
(``refusals``), the kiosk keeps it (`kiosk queue rejected`) and staff can adjust by hand.
Refunds are never refused for a block: they take points back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MEMBER_BLOCKED = "member_blocked"
CARD_BLOCKED = "card_blocked"


@dataclass(frozen=True)
class CardBlock:
    member_id: str
    blocked_at: str
    reason: str


def made_before(op: dict, at: str) -> bool:
    """True when ``op`` was provably created before ``at`` (ISO, with a zone)."""
    if op.get("clock_synced") is False:
        return False
    try:
        made = datetime.fromisoformat(str(op.get("created_at", "")).replace("Z", "+00:00"))
        block = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if made.tzinfo is None or block.tzinfo is None:
        return False
    return made < block


def member_blocked_at(store, member_id: str) -> str | None:
    row = store.db.execute("SELECT blocked_at FROM members WHERE member_id=?",
                           (member_id,)).fetchone()
    return row[0] if row else None


def member_refusal(store, member_id: str, op: dict | None = None) -> str:
    """Why ``op`` (None: a lookup) is refused for this member ("" when it is not)."""
    at = member_blocked_at(store, member_id)
    if at is None or (op is not None and made_before(op, at)):
        return ""
    return f"{MEMBER_BLOCKED}: member blocked since {at[:10]}; ask staff"


def card_block(store, key: str) -> CardBlock | None:
    row = store.db.execute("SELECT member_id, blocked_at, reason FROM blocked_cards"
                           " WHERE token_key=?", (key,)).fetchone()
    return CardBlock(*row) if row else None


def card_refusal(block: CardBlock) -> str:
    """The reply's reason (staff's own reason stays in the ledger: it may name the customer)."""
    return f"{CARD_BLOCKED}: card blocked on {block.blocked_at[:10]}; ask staff"
