"""The rule for a new basket on the lane while a member sits on an unpaid one
(docs/pos-integration.md, "A new basket while a member is attached").

A basket never totalled was most likely re-keyed by the cashier (a new basket_id for the same
sale): the member moves to the new basket. A totalled basket was shown to the customer as the
sale to pay, so a new one is most likely the next customer's: the member is dropped and asked
to tap again. Either way, rewards held on the old basket are released and the POS gets a
``member_changed`` notice for the old basket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from kiosk import lane_messages

if TYPE_CHECKING:
    from kiosk.customer import Customer
    from kiosk.notices import PosNotices
    from kiosk.outbox import Outbox
    from kiosk.publisher import Publisher
    from program.engine import Program

Rule = Literal["move", "drop"]


def rule(old_basket: dict | None) -> Rule:
    """What happens to the member of ``old_basket`` (None: its status is unknown)."""
    return "move" if old_basket is not None and old_basket["status"] == "open" else "drop"


def reason(what: Rule, new_basket_id: str) -> str:
    if what == "move":
        return f"member_moved: never totalled; the member moved to basket {new_basket_id}"
    return (
        f"member_dropped: basket {new_basket_id} opened before this one was paid; "
        "the customer is asked to tap again"
    )


def switch(
    c: Customer,
    old: dict | None,
    new_id: str,
    program: Program,
    out: Publisher,
    outbox: Outbox,
    pos: PosNotices,
) -> Rule:
    """Apply the rule to ``c`` (on ``old``, None when unknown): release the holds, forget the
    old attachment, tell the POS; on "move" ``c`` now sits on ``new_id``. Returns the rule."""
    old_id = c.basket_id
    what = rule(old if old and old["basket_id"] == old_id else None)
    for reward in filter(None, map(program.reward, c.held)):
        out.redemption(lane_messages.redemption_cancel(old_id, reward))
    c.held.clear()
    outbox.drop_attachment(old_id)
    extra = {"member_id": c.member.member_id} if c.member.member_id else {}
    pos.tell(old_id, "member_changed", reason(what, new_id), **extra)
    if what == "move":
        c.basket_id = new_id
    return what
