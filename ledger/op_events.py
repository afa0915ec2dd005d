"""The business events an applied op emits (ledger.events), built in one place for the per-op way
(ledger.apply, ledger.refunds) and the batch way (ledger.batch), so both emit the same events.

Each event's ``data`` names the op, where it came from (store, kiosk) and the member's balance
after the op: ids and sums only, never a name or a contact. A repeated op_id emits nothing (it
is answered from the ``ops`` table before any of this runs), and an op undone by its savepoint
takes its events with it.
"""

from __future__ import annotations

from ledger import events

Origin = tuple[str, str, int]  # store, kiosk, kiosk_seq


def where(op: dict, origin: Origin, balance: int) -> dict:
    """What every op event carries: the op, its store and kiosk, the balance after it."""
    return {"op_id": op["op_id"], "store": origin[0], "kiosk": origin[1], "balance": balance}


def earned(op: dict, origin: Origin, points: int, balance: int, tier: str) -> dict:
    return {"op_id": op["op_id"], "store": origin[0], "kiosk": origin[1], "balance": balance,
            "points": points, "basket_id": op.get("basket_id"), "tier": tier}  # where() inlined


def earned_row(op: dict, origin: Origin, member_id: str, points: int, balance: int,
               tier: str, at: str) -> tuple:
    """A points.earned event as a row (the batch writes its rows in one statement, all with
    the batch's time ``at``, as its journal rows)."""
    return events.row("points.earned", member_id, earned(op, origin, points, balance, tier), at)


def sale(db, op: dict, origin: Origin, result: dict, created: bool, bonus: int,
         rewards: list) -> None:
    """The events of a sale or an enrolment applied the careful way (ledger.apply)."""
    member_id, balance = result["member_id"], result["balance"]
    if created:
        events.emit(db, "member.created", member_id,
                    {**where(op, origin, balance), "source": "kiosk", "bonus": bonus})
    if result["earned"]:
        events.emit(db, "points.earned", member_id,
                    earned(op, origin, result["earned"], balance, result["tier"]))
    if rewards:
        events.emit(db, "points.redeemed", member_id,
                    {**where(op, origin, balance), "points": result["redeemed"],
                     "rewards": [r.reward_id for r in rewards],
                     "basket_id": op.get("basket_id")})


def refund(db, op: dict, origin: Origin, member_id: str, balance: int, taken: int,
           returned: int, shortfall: int) -> None:
    """points.returned: a refund took ``taken`` points back and gave ``returned`` back."""
    if taken or returned or shortfall:
        events.emit(db, "points.returned", member_id,
                    {**where(op, origin, balance), "taken_back": taken, "returned": returned,
                     "shortfall": shortfall, "basket_id": op.get("basket_id"),
                     "refund_id": op.get("refund_id")})
