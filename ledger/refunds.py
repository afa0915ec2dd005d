"""Applying a refund op (a POS refund or a post-void) inside the caller's transaction.

The sale is found by the store and basket id; the refund takes back what its lines earned and
gives back the points of the redemptions it undoes (program.refunds), never more than the sale
earned in all. A balance goes below zero only as far as the program's ``overdraft_points``
lets a redemption take it: what the balance cannot cover is recorded as the refund's shortfall
(in the ``refusals`` table, for reports, and in the ack), not taken.
"""

from __future__ import annotations

import logging

from ledger import acks, op_events
from ledger.memberstate import expire_points
from ledger.sales import RefundRow, SaleRow, find_sale, record_refund, refunds_of
from ledger.store import LedgerStore
from program.engine import Program
from program.refunds import allocate, points_due, rewards_returned

log = logging.getLogger(__name__)

Origin = tuple[str, str, int]  # store, kiosk, kiosk_seq


class RefundRefused(Exception):
    """The refund cannot be applied at all; the reason goes back in the ack. ``final`` False:
    not remembered under the op_id, so the same refund sent again later is tried again (its
    sale may not have reached the ledger yet)."""

    def __init__(self, reason: str, final: bool = True) -> None:
        super().__init__(reason)
        self.final = final


def apply_refund(store: LedgerStore, program: Program, op: dict, origin: Origin) -> dict:
    """Apply the refund op ``op`` (validated); return the ack body."""
    basket_id = op.get("basket_id")
    found = find_sale(store, origin[0], basket_id) if basket_id else None
    if found is None:
        raise RefundRefused(
            f"unknown_basket: no loyalty sale of basket {basket_id or '(none)'}"
            f" in store {origin[0]}",
            final=False,
        )
    store.lock_member(found.member_id)  # PostgreSQL: one refund of a basket at a time
    expire_points(store, program, found.member_id)
    refund, notes = _price(store, found, op)
    balance = store.balance(found.member_id)
    back = sum(found.sale.redeemed[n].points for n in refund.returned)
    taken = min(refund.due, max(0, balance + back + program.overdraft_points))
    refund = RefundRow(
        refund.op_id, refund.refund_id, refund.lines, refund.due, taken, refund.returned
    )
    _journal(store, found, refund, op, origin)
    record_refund(store, found.op_id, refund)
    if taken < refund.due:
        why = (
            f"shortfall: {refund.due - taken} of {refund.due} points not taken back,"
            f" balance {balance + back}"
        )
        store.record_refusal(op["op_id"], found.member_id, "refund", why)
        notes.append(why)
        log.warning("op %s: refund of basket %s: %s", op["op_id"], basket_id, why)
    member = store.member(found.member_id)
    op_events.refund(store.db, op, origin, found.member_id, member.balance, taken, back,
                     refund.due - taken)
    return acks.refunded(
        op["op_id"],
        found.member_id,
        member.balance,
        member.tier,
        taken,
        back,
        refund.due - taken,
        notes,
    )


def _price(store: LedgerStore, found: SaleRow, op: dict) -> tuple[RefundRow, list[str]]:
    """The quantities, points and redemptions this refund adds to the earlier ones."""
    sale = found.sale
    earlier = refunds_of(store, found.op_id)
    before = [sum(r.lines[n] for r in earlier) for n in range(len(sale.lines))]
    wanted = None if "lines" not in op else [(ln["sku"], ln["qty"]) for ln in op["lines"]]
    adds, notes = allocate(sale, before, wanted)
    after = [b + a for b, a in zip(before, adds, strict=True)]
    due = points_due(sale, after) - sum(r.due for r in earlier)
    done = {n for r in earlier for n in r.returned}
    returned = tuple(n for n in rewards_returned(sale, after) if n not in done)
    return RefundRow(
        op["op_id"], op.get("refund_id", ""), tuple(adds), max(0, due), 0, returned
    ), notes


def _journal(
    store: LedgerStore, found: SaleRow, refund: RefundRow, op: dict, origin: Origin
) -> None:
    what = op.get("refund_id") or "post-void"
    for n in refund.returned:
        item = found.sale.redeemed[n]
        store.journal(
            found.member_id,
            "unredeem",
            item.points,
            op["op_id"],
            op["basket_id"],
            origin,
            reason=item.reward_id,
        )
    if refund.taken:
        store.journal(
            found.member_id,
            "refund",
            -refund.taken,
            op["op_id"],
            op["basket_id"],
            origin,
            reason=what,
        )
