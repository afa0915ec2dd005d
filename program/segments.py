"""Rule segments: who a shop owner means by "lapsed coffee drinkers", as checked definitions.

A segment is a tree of criteria joined by ``all`` (AND) or ``any`` (OR), from a program file's
``[[segments]]`` or from `ledger segments add`. This module only checks and parses them (pure,
no database: program.files calls it for every program file); ledger.segments turns a parsed
tree into SQL. Every message names the key, e.g. ``segments[0] (lapsed).all[1].purchases.min
must be an integer >= 0``. docs/segments.md lists the criteria.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from program.errors import ProgramError

ID = re.compile(r"^[a-z0-9-]{1,32}$")
CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # a SKU, category, store or label as the POS sends
RFM_SEGMENTS = ("champions", "loyal", "potential", "new", "at-risk", "hibernating", "lost")
CHANNELS = ("email", "sms", "phone", "post", "push")
MAX_DEPTH, MAX_ITEMS = 4, 20

# criterion -> the keys its table takes (a range criterion: min/max, optionally over days)
RANGES = {
    "last_purchase_days": (),  # days since the member's last purchase
    "purchases": ("days",),  # number of baskets (in the last ``days`` days, else ever)
    "amount": ("days",),  # money spent, minor units
    "average_amount": ("days",),  # average basket, minor units
    "balance": (),  # points
    "store_share": ("store", "days"),  # percent of the member's baskets bought in ``store``
}
LISTS = {"tier": ID, "label": CODE, "consent": None}  # value or list of values (any of them)


@dataclass(frozen=True)
class Criterion:
    """One test on a member: ``kind`` (a key of RANGES or LISTS, or bought/store/
    birthday_month), its bounds and values."""

    kind: str
    low: int | None = None
    high: int | None = None
    days: int | None = None
    values: tuple[str, ...] = ()  # tiers, labels, channels, skus, stores...
    categories: tuple[str, ...] = ()
    month: int | str | None = None  # 1..12, or "current": the month of the refresh


@dataclass(frozen=True)
class Group:
    """``all`` (AND) or ``any`` (OR) of criteria and groups."""

    join: str  # "all" or "any"
    parts: tuple[Criterion | Group, ...]


@dataclass(frozen=True)
class SegmentDef:
    segment_id: str
    name: str
    rule: Group


def parse_segments(items: list, reserved: tuple[str, ...] = RFM_SEGMENTS) -> tuple[SegmentDef, ...]:
    """A program file's ``segments`` list as definitions; ProgramError naming the key."""
    if not isinstance(items, list) or len(items) > 50:
        raise ProgramError("segments must be a list of at most 50 [[segments]] tables")
    seen, out = set(), []
    for i, item in enumerate(items):
        where = f"segments[{i}]"
        if not isinstance(item, dict):
            raise ProgramError(f"{where} must be a table")
        out.append(parse_segment(item, where, reserved))
        if out[-1].segment_id in seen:
            raise ProgramError(f"{where}.id {out[-1].segment_id!r} is used twice")
        seen.add(out[-1].segment_id)
    return tuple(out)


def parse_segment(item: dict, where: str = "segment", reserved=RFM_SEGMENTS) -> SegmentDef:
    """One definition: ``id``, optional ``name``, and exactly one of ``all`` / ``any``."""
    segment_id = item.get("id")
    if not isinstance(segment_id, str) or not ID.match(segment_id):
        raise ProgramError(f"{where}.id must be 1-32 of a-z 0-9 -, got {segment_id!r}")
    where = f"{where} ({segment_id})"
    if segment_id in reserved:
        raise ProgramError(f"{where}.id: {segment_id!r} is an RFM segment's name; choose another")
    unknown = set(item) - {"id", "name", "all", "any"}
    if unknown:
        raise ProgramError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (a segment takes id, name and all or any)"
        )
    name = item.get("name", segment_id)
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise ProgramError(f"{where}.name must be text of 1-64 characters")
    return SegmentDef(segment_id, name, _group(item, where, 0))


def _group(item: dict, where: str, depth: int) -> Group:
    joins = [k for k in ("all", "any") if k in item]
    if len(joins) != 1:
        raise ProgramError(
            f"{where} needs exactly one of all (every criterion) or any (one of them)"
        )
    join = joins[0]
    parts = item[join]
    where = f"{where}.{join}"
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_ITEMS:
        raise ProgramError(f"{where} must be a list of 1-{MAX_ITEMS} criteria")
    if depth >= MAX_DEPTH:
        raise ProgramError(f"{where}: groups nest at most {MAX_DEPTH} deep")
    return Group(join, tuple(_part(p, f"{where}[{n}]", depth) for n, p in enumerate(parts)))


def _part(part, where: str, depth: int) -> Criterion | Group:
    if not isinstance(part, dict) or len(part) != 1:
        raise ProgramError(
            f"{where} must be a table with one criterion, like {{ purchases = {{ min = 3 }} }}"
        )
    ((kind, value),) = part.items()
    if kind in ("all", "any"):
        return _group(part, where, depth + 1)
    where = f"{where}.{kind}"
    if kind in RANGES:
        return _range(kind, value, where)
    if kind in LISTS:
        return Criterion(kind, values=_values(value, where, LISTS[kind]))
    if kind == "bought":
        return _bought(value, where)
    if kind == "store":
        return Criterion("store", values=_values(value, where, CODE))
    if kind == "birthday_month":
        if value != "current" and not (isinstance(value, int) and 1 <= value <= 12):
            raise ProgramError(f'{where} must be a month 1-12 or "current", got {value!r}')
        return Criterion(kind, month=value)
    known = [*RANGES, *LISTS, "bought", "store", "birthday_month", "all", "any"]
    raise ProgramError(
        f"{where.rsplit('.', 1)[0]}: unknown criterion {kind!r}; one of {', '.join(known)}"
    )


def _range(kind: str, value, where: str) -> Criterion:
    if not isinstance(value, dict):
        raise ProgramError(f"{where} must be a table like {{ min = 1, max = 5 }}")
    allowed = {"min", "max", *RANGES[kind]}
    if unknown := set(value) - allowed:
        raise ProgramError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; it takes {', '.join(sorted(allowed))}"
        )
    low, high = (_count(value.get(k), f"{where}.{k}") for k in ("min", "max"))
    if low is None and high is None:
        raise ProgramError(f"{where} needs min or max")
    if low is not None and high is not None and high < low:
        raise ProgramError(f"{where}: max {high} is below min {low}")
    if kind == "store_share" and (high or 0) > 100:
        raise ProgramError(f"{where}.max is a percent, at most 100")
    days = _count(value.get("days"), f"{where}.days")
    if days == 0:
        raise ProgramError(f"{where}.days must be at least 1 (leave it out for all time)")
    stores = ()
    if kind == "store_share":
        if "store" not in value:
            raise ProgramError(f"{where} needs store, the store the share is of")
        stores = _values(value["store"], f"{where}.store", CODE)
    return Criterion(kind, low, high, days, stores)


def _bought(value, where: str) -> Criterion:
    if not isinstance(value, dict) or not ({"skus", "categories"} & set(value)):
        raise ProgramError(
            f'{where} must be a table with skus or categories, like {{ skus = ["latte"] }}'
        )
    if unknown := set(value) - {"skus", "categories", "days"}:
        raise ProgramError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; it takes skus, categories, days"
        )
    days = _count(value.get("days"), f"{where}.days")
    if days == 0:
        raise ProgramError(f"{where}.days must be at least 1 (leave it out for all time)")
    skus = _values(value["skus"], f"{where}.skus", CODE) if "skus" in value else ()
    cats = (
        _values(value["categories"], f"{where}.categories", CODE) if "categories" in value else ()
    )
    return Criterion("bought", days=days, values=skus, categories=cats)


def _count(value, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
        raise ProgramError(f"{where} must be an integer >= 0, got {value!r}")
    return value


def _values(value, where: str, pattern: re.Pattern | None) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not 1 <= len(values) <= 100:
        raise ProgramError(f"{where} must be a value or a list of 1-100 values")
    for v in values:
        if pattern is None and v not in CHANNELS:
            raise ProgramError(f"{where}: {v!r} is not a channel; one of {', '.join(CHANNELS)}")
        if pattern is not None and not (isinstance(v, str) and pattern.match(v)):
            raise ProgramError(f"{where}: {v!r} is not a valid value")
    return tuple(values)
