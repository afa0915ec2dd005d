"""Facts: every paid basket the kiosks saw, with or without a member, and every return.

Written inside the caller's transaction from the op that reported the basket: a member's sale
op, a sale op the ledger rejected (the basket was paid all the same), or a ``basket`` op (a paid
basket with no member attached). The op_id is the key, so a replayed op never adds a second row.
Reports, segments and offers read baskets here (``baskets``, ``basket_lines``,
``basket_discounts``, migration 0013) and returns from ``refunds`` joined with ``sales`` by the
sale's op_id (migration 0012): ``sales`` is the pricing a refund needs, not a second basket list.

``at`` is the kiosk's time of payment when its clock was synchronised, else the time the ledger
recorded the basket (``clock_synced`` says which; ``kiosk_at`` keeps what the kiosk sent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ledger import acks
from ledger.store import LedgerStore, now_iso
from program.engine import Reward

Origin = tuple[str, str, int]  # store, kiosk, kiosk_seq

BASKET_COLUMNS = (
    "op_id",
    "store",
    "lane",
    "kiosk",
    "basket_id",
    "at",
    "kiosk_at",
    "clock_synced",
    "currency",
    "total_minor",
    "discount_minor",
    "member_id",
    "recorded_at",
)
LINE_COLUMNS = ("op_id", "line_no", "sku", "category", "qty", "unit_minor")
DISCOUNT_COLUMNS = ("op_id", "reward_id", "discount_minor", "points")


@dataclass(frozen=True)
class Line:
    line_no: int
    sku: str
    category: str
    qty: int
    unit_minor: int


@dataclass(frozen=True)
class Discount:
    reward_id: str
    discount_minor: int
    points: int


@dataclass(frozen=True)
class Basket:
    op_id: str
    store: str
    lane: str | None  # None: sent by a kiosk older than contract v1.1
    kiosk: str
    basket_id: str
    at: str
    clock_synced: bool
    currency: str
    total_minor: int
    discount_minor: int
    member_id: str | None
    lines: tuple[Line, ...] = ()
    discounts: tuple[Discount, ...] = ()


@dataclass(frozen=True)
class ReturnLine:
    """What one refund (or post-void) returned of one line of a member's basket."""

    refund_op_id: str
    refund_id: str  # "" for a post-void
    sale_op_id: str  # the basket's op_id in ``baskets``
    store: str
    basket_id: str
    at: str  # when the ledger applied the refund
    line_no: int  # the line of ``basket_lines`` (0 for a basket sold without lines)
    sku: str  # "" for a basket sold without lines
    qty: int
    value_minor: int  # what those units were sold for
    points_taken: int  # what the whole refund took back (the same on each of its lines)


@dataclass(frozen=True)
class Fact:
    """The rows one paid basket adds (``Fact.of``), for one insert or a batch's many."""

    basket: tuple
    lines: list[tuple]
    discounts: list[tuple]

    @classmethod
    def of(
        cls, op: dict, origin: Origin, member_id: str | None, rewards: Sequence[Reward] = ()
    ) -> Fact:
        """The basket ``op`` (a validated sale or basket op with a basket id) reported."""
        now = now_iso()
        synced = bool(op.get("clock_synced"))
        discounts = [(op["op_id"], r.reward_id, r.discount_minor, r.cost) for r in rewards]
        row = (
            op["op_id"],
            origin[0],
            op.get("lane"),
            origin[1],
            op["basket_id"],
            op["created_at"] if synced else now,
            op["created_at"],
            int(synced),
            op.get("currency", ""),
            op.get("total_minor", 0),
            sum(d[2] for d in discounts),
            member_id,
            now,
        )
        lines = [
            (op["op_id"], n, i["sku"], i.get("category", ""), i["qty"], i["unit_minor"])
            for n, i in enumerate(op.get("items", ()))
        ]
        return cls(row, lines, discounts)


def has_basket(op: dict) -> bool:
    """Whether ``op`` reports a paid basket (a sale or basket op with a basket id)."""
    return op["kind"] in ("sale", "basket") and bool(op.get("basket_id"))


def record(ledger: LedgerStore, fact: Fact) -> None:
    write_many(ledger, [fact])


def apply_basket(ledger: LedgerStore, op: dict, origin: Origin) -> dict:
    """A ``basket`` op (a paid basket with no member): its fact, and the ack body."""
    record(ledger, Fact.of(op, origin, None))
    return acks.recorded(op["op_id"])


def write_many(ledger: LedgerStore, facts: Sequence[Fact]) -> None:
    """The facts' rows, a statement per table (COPY on PostgreSQL; see LedgerStore)."""
    if not facts:
        return
    ledger.insert_rows("baskets", BASKET_COLUMNS, [f.basket for f in facts])
    if lines := [ln for f in facts for ln in f.lines]:
        ledger.insert_rows("basket_lines", LINE_COLUMNS, lines)
    if discounts := [d for f in facts for d in f.discounts]:
        ledger.insert_rows("basket_discounts", DISCOUNT_COLUMNS, discounts)


# -- reading ------------------------------------------------------------------------------
def _where(
    start: str, end: str, store: str | None, at: str = "at", shop: str = "store"
) -> tuple[str, list]:
    sql, values = f"{at} >= ? AND {at} < ?", [start, end]
    if store is not None:
        sql, values = sql + f" AND {shop} = ?", [*values, store]
    return sql, values


def baskets(
    ledger: LedgerStore,
    start: str,
    end: str,
    store: str | None = None,
    member_id: str | None = None,
) -> list[Basket]:
    """Paid baskets with ``start <= at < end`` (ISO, UTC), of one store or all, with their
    lines and discounts, in time order."""
    where, values = _where(start, end, store)
    if member_id is not None:
        where, values = where + " AND member_id = ?", [*values, member_id]
    rows = ledger.db.execute(
        f"SELECT {', '.join(BASKET_COLUMNS)} FROM baskets WHERE {where} ORDER BY at, op_id", values
    ).fetchall()
    ids = [r[0] for r in rows]
    lines, discounts = _lines_of(ledger, ids), _discounts_of(ledger, ids)
    return [
        Basket(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            bool(r[7]),
            r[8],
            int(r[9]),
            int(r[10]),
            r[11],
            tuple(lines.get(r[0], ())),
            tuple(discounts.get(r[0], ())),
        )
        for r in rows
    ]


def lines(
    ledger: LedgerStore, start: str, end: str, store: str | None = None
) -> list[tuple[Basket, Line]]:
    """Every line of the period's baskets, with its basket (whose ``lines`` it is one of)."""
    return [(b, ln) for b in baskets(ledger, start, end, store) for ln in b.lines]


def _lines_of(ledger: LedgerStore, op_ids: list[str]) -> dict[str, list[Line]]:
    found: dict[str, list[Line]] = {}
    for chunk in _chunks(op_ids):
        where, values = ledger.one_of("op_id", chunk)
        for r in ledger.db.execute(
            f"SELECT {', '.join(LINE_COLUMNS)} FROM basket_lines WHERE"
            f" {where} ORDER BY op_id, line_no",
            values,
        ).fetchall():
            found.setdefault(r[0], []).append(Line(r[1], r[2], r[3], r[4], int(r[5])))
    return found


def _discounts_of(ledger: LedgerStore, op_ids: list[str]) -> dict[str, list[Discount]]:
    found: dict[str, list[Discount]] = {}
    for chunk in _chunks(op_ids):
        where, values = ledger.one_of("op_id", chunk)
        for r in ledger.db.execute(
            f"SELECT {', '.join(DISCOUNT_COLUMNS)} FROM basket_discounts WHERE {where}", values
        ).fetchall():
            found.setdefault(r[0], []).append(Discount(r[1], int(r[2]), int(r[3])))
    return found


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    # SQLite allows 32766 parameters; chunks keep each statement small on both databases.
    return [values[n : n + size] for n in range(0, len(values), size)]


def returns(
    ledger: LedgerStore, start: str, end: str, store: str | None = None
) -> list[ReturnLine]:
    """What the refunds applied with ``start <= at < end`` returned, per basket line."""
    where, values = _where(start, end, store, at="r.at", shop="s.store")
    rows = ledger.db.execute(
        "SELECT r.op_id, r.refund_id, r.sale_op_id, s.store, s.basket_id, r.at, r.body, s.body"
        " FROM refunds r JOIN sales s ON s.op_id = r.sale_op_id"
        f" WHERE {where}"
        " ORDER BY r.at, r.op_id",
        values,
    ).fetchall()
    found = []
    for op_id, refund_id, sale_op, shop, basket_id, at, body, sale_body in rows:
        refund, sale = json.loads(body), json.loads(sale_body)
        for n, qty in enumerate(refund["lines"]):
            if qty:
                sku, sold, value, _weight = sale["lines"][n]
                found.append(
                    ReturnLine(
                        op_id,
                        refund_id or "",
                        sale_op,
                        shop,
                        basket_id,
                        at,
                        n,
                        sku,
                        qty,
                        value * qty // sold,
                        refund["taken"],
                    )
                )
    return found
