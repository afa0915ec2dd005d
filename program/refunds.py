"""What a refund takes back: pure arithmetic over what a sale earned and what was returned.

The ledger keeps, for each sale, its lines with their value and weight (price times the SKU's or
category's multiplier, as the program priced them) and how its points split into the part that
scales with the lines (base, tier and promotion multipliers) and the basket-level bonuses (promotion
bonuses, first visit, punch cards). A refund of some lines takes back

    earned x (line points x weight refunded / weight sold + bonuses x value refunded / value sold)
           / (line points + bonuses)

(a cap shrinks both parts alike), rounded to the nearest point (halves up), computed over
everything refunded so far less what earlier refunds took: the figure only grows as more is
refunded, so partial refunds never add up to more than the sale earned, and a refund of
everything takes back exactly what it earned. See docs/program.md, "Returns".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from program.engine import Basket, Program, Quote, Reward

SCALING = ("base", "tier:", "promo:")  # breakdown steps that scale with the lines


@dataclass(frozen=True)
class SoldLine:
    sku: str  # "" for a basket sold without lines: one line worth the whole total
    qty: int
    value: int  # qty x unit_minor
    weight: Fraction


@dataclass(frozen=True)
class Redeemed:
    reward_id: str
    points: int
    sku: str = ""  # a free item: returned with the first refund of that SKU


@dataclass(frozen=True)
class Sale:
    earned: int
    line_points: int  # points before any cap that scale with the lines
    bonus_points: int  # basket-level points before any cap
    lines: tuple[SoldLine, ...]
    redeemed: tuple[Redeemed, ...] = ()

    def to_json(self) -> dict:
        return {
            "earned": self.earned,
            "line_points": self.line_points,
            "bonus_points": self.bonus_points,
            "lines": [[ln.sku, ln.qty, ln.value, str(ln.weight)] for ln in self.lines],
            "redeemed": [[r.reward_id, r.points, r.sku] for r in self.redeemed],
        }

    @classmethod
    def from_json(cls, body: dict) -> Sale:
        return cls(
            body["earned"],
            body["line_points"],
            body["bonus_points"],
            tuple(SoldLine(s, q, v, Fraction(w)) for s, q, v, w in body["lines"]),
            tuple(Redeemed(*r) for r in body["redeemed"]),
        )


def sale_of(program: Program, basket: Basket, quote: Quote, rewards: Sequence[Reward]) -> Sale:
    """What a refund of this sale needs to know, from the program that priced it."""
    line_points = max(0, sum(p for step, p in quote.breakdown if step.startswith(SCALING)))
    bonus_points = sum(
        p for step, p in quote.breakdown if p > 0 and not step.startswith((*SCALING, "cap"))
    )
    lines = tuple(
        SoldLine(i.sku, i.qty, i.qty * i.unit_minor, program.line_weight(i)) for i in basket.items
    )
    if not lines or not sum(ln.value for ln in lines):
        lines = (SoldLine("", 1, basket.total_minor, Fraction(basket.total_minor)),)
    return Sale(
        quote.earn,
        line_points,
        bonus_points,
        lines,
        tuple(Redeemed(r.reward_id, r.cost, r.sku) for r in rewards),
    )


def points_due(sale: Sale, refunded: Sequence[int]) -> int:
    """The points a sale's refunds take back in all, once ``refunded[i]`` of line i are."""
    if all(r >= ln.qty for r, ln in zip(refunded, sale.lines, strict=True)):
        return sale.earned
    weight = sum(ln.weight for ln in sale.lines)
    value = sum(ln.value for ln in sale.lines)
    share_w = sum(ln.weight * r / ln.qty for r, ln in zip(refunded, sale.lines, strict=True))
    share_v = sum(
        Fraction(ln.value * r, ln.qty) for r, ln in zip(refunded, sale.lines, strict=True)
    )
    parts = sale.line_points + sale.bonus_points
    if not parts:
        return 0
    exact = Fraction(0)
    if weight:
        exact += sale.line_points * share_w / weight
    if value:
        exact += sale.bonus_points * share_v / value
    return min(sale.earned, math.floor(sale.earned * exact / parts + Fraction(1, 2)))


def rewards_returned(sale: Sale, refunded: Sequence[int]) -> list[int]:
    """Indexes of the sale's redemptions a refund state gives back: a free item once a unit
    of its SKU is refunded, any other reward once the whole basket is."""
    whole = all(r >= ln.qty for r, ln in zip(refunded, sale.lines, strict=True))
    skus = {ln.sku for r, ln in zip(refunded, sale.lines, strict=True) if r}
    return [n for n, r in enumerate(sale.redeemed) if whole or (r.sku and r.sku in skus)]


def allocate(
    sale: Sale, refunded: Sequence[int], wanted: Sequence[tuple[str, int]] | None
) -> tuple[list[int], list[str]]:
    """The quantities of each line this refund adds (``wanted`` None: all that is left), and
    what it asked for that cannot be refunded, in words for the ack."""
    left = [ln.qty - r for r, ln in zip(refunded, sale.lines, strict=True)]
    if wanted is None:
        return left, [] if any(left) else ["already refunded in full"]
    adds, notes = [0] * len(sale.lines), []
    for sku, qty in wanted:
        rows = [n for n, ln in enumerate(sale.lines) if ln.sku == sku]
        if not rows:
            notes.append(f"{sku} was not sold in this basket")
            continue
        for n in rows:
            take = min(qty, left[n] - adds[n])
            adds[n] += take
            qty -= take
        if qty:
            sold = sum(sale.lines[n].qty for n in rows)
            before = sum(refunded[n] for n in rows)
            notes.append(f"{sku}: {qty} not refunded ({sold} sold, {before} refunded before)")
    return adds, notes
