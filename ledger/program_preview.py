""""What would this basket earn": a basket typed in a small form, priced by the real engine.

The form has LINES basket lines (sku, category, quantity, unit price in currency units such as
2.50) and the member's tier, balance and whether it is their first visit. Every field is checked
and a wrong one is named (``line 2 price: '2,5x' is not an amount``); empty lines are skipped.
The quote is program.engine's own, the one the kiosk previews and the ledger applies, so what
the owner sees is what a sale would earn (facts the ledger keeps, such as points earned today,
start at zero here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from program.engine import Basket, Item, MemberState, Program, Reward

LINES = 4
MAX_QTY = 1000
MAX_UNIT_MINOR = 10_000_000
MAX_BALANCE = 10_000_000
ID_MAX = 64


@dataclass(frozen=True)
class Preview:
    total_minor: int
    earn: int
    breakdown: tuple[tuple[str, int], ...]
    tier: str
    balance_after: int
    affordable: tuple[Reward, ...]


@dataclass
class Asked:
    """The form's values as typed (to show them again) and what is wrong with them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def blank() -> Asked:
    return Asked({"balance": "0", "tier": "member"})


def tier_ids(body: dict | None) -> list[str]:
    """The tiers a member may be in under the program ``body`` (None: the default program)."""
    return ["member", *(t["id"] for t in (body or {}).get("tiers", ()))]


def preview(program: Program, form: Mapping[str, str],
            body: dict | None = None) -> tuple[Asked, Preview | None]:
    """The form read back, and the quote (None if a field is wrong or no line was given).
    ``body`` is the program's (its tiers, minor units per currency unit); None for the default
    program."""
    asked = Asked({k: str(form.get(k, "")).strip()[:ID_MAX] for k in _fields()})
    minor_per_unit = (body or {}).get("minor_per_unit", 100)
    items = [i for n in range(LINES) if (i := _item(minor_per_unit, asked, n)) is not None]
    balance = _int(asked, "balance", "balance", 0, MAX_BALANCE)
    tier = asked.values["tier"] or "member"
    tiers = set(tier_ids(body))
    if tier not in tiers:
        asked.errors.append(f"tier: {tier!r} is not a tier of this program ({', '.join(sorted(tiers))})")
    if not items and not asked.errors:
        asked.errors.append("basket: fill in at least one line (sku, quantity and price)")
    if asked.errors:
        return asked, None
    total = sum(i.qty * i.unit_minor for i in items)
    basket = Basket("preview", program.currency, total, tuple(items))
    member = MemberState("preview", balance, tier,
                         {"visits": 0 if asked.values["first_visit"] else 1, "earned_today": 0,
                          "window_points": 0, "segments": ()})
    quote = program.quote(basket, member)
    after = balance + quote.earn
    affordable = tuple(r for r in program.rewards(member) if r.cost <= after)
    return asked, Preview(total, quote.earn, quote.breakdown, tier, after, affordable)


def _fields() -> list[str]:
    return ["balance", "tier", "first_visit",
            *(f"line-{n}-{k}" for n in range(LINES) for k in ("sku", "category", "qty", "price"))]


def _item(minor_per_unit: int, asked: Asked, n: int) -> Item | None:
    v = {k: asked.values[f"line-{n}-{k}"] for k in ("sku", "category", "qty", "price")}
    if not any(v.values()):
        return None
    where = f"line {n + 1}"
    if not v["sku"]:
        asked.errors.append(f"{where} sku: needed when the line has a quantity or price")
    qty = _int(asked, f"line-{n}-qty", f"{where} quantity", 1, MAX_QTY)
    unit = _amount(asked, f"line-{n}-price", f"{where} price", minor_per_unit)
    if not v["sku"] or qty is None or unit is None:
        return None
    return Item(v["sku"], qty, unit, v["category"])


def _int(asked: Asked, key: str, label: str, low: int, high: int) -> int | None:
    text = asked.values[key] or str(low)  # left empty: a quantity of 1, a balance of 0
    try:
        value = int(text)
    except ValueError:
        asked.errors.append(f"{label}: {text!r} is not a whole number")
        return None
    if not low <= value <= high:
        asked.errors.append(f"{label}: {value} is not between {low} and {high}")
        return None
    return value


def _amount(asked: Asked, key: str, label: str, minor_per_unit: int) -> int | None:
    """A price in currency units (2.50) as minor units (250)."""
    text = asked.values[key]
    try:
        minor = Decimal(text) * minor_per_unit
    except InvalidOperation:
        asked.errors.append(f"{label}: {text!r} is not an amount (like 2.50)")
        return None
    if not minor.is_finite():
        asked.errors.append(f"{label}: {text!r} is not an amount (like 2.50)")
        return None
    if minor != minor.to_integral_value():
        asked.errors.append(f"{label}: {text!r} has more decimals than the currency")
        return None
    if not 0 <= minor <= MAX_UNIT_MINOR:
        asked.errors.append(f"{label}: {text} is not between 0 and {MAX_UNIT_MINOR // minor_per_unit}")
        return None
    return int(minor)
