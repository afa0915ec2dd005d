"""The ledger's record of sales and refunds (migration 0011), inside the caller's transaction.

A sale with a basket id is kept with its lines and points (program.refunds.Sale) so a later
refund of that basket, from any kiosk of the store, can be priced without the original op; each
refund applied is kept with the quantities it refunded, so the next one knows what is left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ledger.store import LedgerStore, now_iso
from program.refunds import Sale


@dataclass(frozen=True)
class SaleRow:
    op_id: str
    member_id: str
    sale: Sale


@dataclass(frozen=True)
class RefundRow:
    op_id: str
    refund_id: str
    lines: tuple[int, ...]  # quantity refunded of each sale line
    due: int  # points this refund was to take back
    taken: int  # what it took (less when the balance did not cover it)
    returned: tuple[int, ...]  # indexes of the sale's redemptions it gave back


def sale_row(op_id: str, store: str, basket_id: str, member_id: str, sale: Sale) -> tuple:
    """A row for ``LedgerStore.write_many``'s sales."""
    return (op_id, store, basket_id, member_id, json.dumps(sale.to_json(), separators=(",", ":")))


def record_sale(
    ledger: LedgerStore, op_id: str, store: str, basket_id: str, member_id: str, sale: Sale
) -> None:
    ledger.db.execute(
        "INSERT INTO sales VALUES (?,?,?,?,?,?)",
        (*sale_row(op_id, store, basket_id, member_id, sale), now_iso()),
    )


def find_sale(ledger: LedgerStore, store: str, basket_id: str) -> SaleRow | None:
    """The store's first sale of this basket (basket ids are the store's POS's)."""
    row = ledger.db.execute(
        "SELECT op_id, member_id, body FROM sales WHERE store=? AND"
        " basket_id=? ORDER BY at, op_id LIMIT 1",
        (store, basket_id),
    ).fetchone()
    return SaleRow(row[0], row[1], Sale.from_json(json.loads(row[2]))) if row else None


def refunds_of(ledger: LedgerStore, sale_op_id: str) -> list[RefundRow]:
    rows = ledger.db.execute(
        "SELECT op_id, refund_id, body FROM refunds WHERE sale_op_id=? ORDER BY at, op_id",
        (sale_op_id,),
    ).fetchall()
    return [
        RefundRow(r[0], r[1] or "", tuple(b["lines"]), b["due"], b["taken"], tuple(b["returned"]))
        for r in rows
        for b in [json.loads(r[2])]
    ]


def record_refund(ledger: LedgerStore, sale_op_id: str, refund: RefundRow) -> None:
    body = {
        "lines": list(refund.lines),
        "due": refund.due,
        "taken": refund.taken,
        "returned": list(refund.returned),
    }
    ledger.db.execute(
        "INSERT INTO refunds VALUES (?,?,?,?,?)",
        (
            refund.op_id,
            sale_op_id,
            refund.refund_id or None,
            json.dumps(body, separators=(",", ":")),
            now_iso(),
        ),
    )
