"""The program interface both sides call: the kiosk to preview, the ledger to decide.

Keep this module light (no database, no network): the kiosk imports it. ``Program`` declares
every member a caller may use; the full rule engine (``program.rules.RuleProgram``: tiers,
promotions, caps...) implements it, and so does ``DefaultProgram``, the simple program a fresh
ledger starts with, with neutral values (no tiers, promotions, punch cards or expiry). So a
caller never probes a program for what it has: tests/test_program_protocol.py checks both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Item:
    sku: str
    qty: int
    unit_minor: int
    category: str = ""


@dataclass(frozen=True)
class Basket:
    basket_id: str
    currency: str
    total_minor: int
    items: tuple[Item, ...] = ()
    at: str = ""  # ISO time the basket is priced at (an op's created_at); "" means now

    @classmethod
    def from_message(cls, msg: dict, at: str | None = None) -> Basket:
        items = tuple(Item(i["sku"], i["qty"], i["unit_minor"], i.get("category", ""))
                      for i in msg.get("items", ()))
        return cls(msg["basket_id"], msg["currency"], msg["total_minor"], items,
                   msg.get("created_at", "") if at is None else at)


def in_segments(segments: tuple[str, ...], member: MemberState, offer_id: str = "") -> bool:
    """A targeted offer reaches only members in one of its segments: the ledger puts the
    member's segments in ``facts["segments"]``; a kiosk knows no segments, only the offer ids
    the ledger's lookup reply listed for the member, in ``facts["offers"]``."""
    if not segments:
        return True
    if "offers" in member.facts:  # a kiosk: the ledger already decided who is in
        return offer_id in member.facts["offers"]
    return bool(set(segments) & set(member.facts.get("segments", ())))


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    cost: int  # points
    discount_minor: int = 0  # amount off, in the basket's currency
    sku: str = ""  # free item, when the reward is one
    percent: int = 0  # percent off the basket, when the reward is one
    tiers: tuple[str, ...] = ()  # only members of these tiers may take it (empty: everyone)
    stock: int = 0  # redemptions in all, across members (0: no limit)
    limit_per_member: int = 0  # redemptions per member, ever (0: no limit)
    segments: tuple[str, ...] = ()  # only members of one of these (facts["segments"]; empty: all)

    def reaches(self, member: MemberState) -> bool:
        """Whether the member may have it: their tier, and their segments when it is targeted."""
        return ((not self.tiers or member.tier in self.tiers)
                and in_segments(self.segments, member, self.reward_id))

    def discount_for(self, basket: Basket | None) -> int:
        """The discount in minor units this reward gives on ``basket``."""
        if basket is None:
            return self.discount_minor
        if self.percent:
            return basket.total_minor * self.percent // 100
        if self.sku:
            prices = [i.unit_minor for i in basket.items if i.sku == self.sku]
            return max(prices) if prices else self.discount_minor
        return self.discount_minor


@dataclass(frozen=True)
class MemberState:
    """What pricing may depend on; the engine can ask for more in later versions."""

    member_id: str = ""
    balance: int = 0
    tier: str = "member"
    # engine-specific facts the ledger computes from the journal: "visits" (sales so far),
    # "earned_today" (points earned today), "window_points" (points earned in the tier window)
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Quote:
    earn: int
    breakdown: tuple[tuple[str, int], ...] = ()  # (rule, points), for screens and reports


@dataclass(frozen=True)
class Promotion:
    promo_id: str
    name: str
    multiplier: Fraction = Fraction(1)
    bonus_points: int = 0
    days: tuple[str, ...] = ()  # empty: every day
    hours: tuple[dt.time, dt.time] | None = None  # [start, end) local time
    start: dt.date | None = None  # inclusive
    end: dt.date | None = None  # inclusive
    min_spend_minor: int = 0
    skus: tuple[str, ...] = ()  # the basket must hold one of these (empty: any basket)
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()  # only members of these tiers (empty: everyone)
    birthday_month: bool = False  # only in the member's birth month (facts["birth_month"])
    limit_per_day: int = 0  # times per member per local day (0: no limit)
    limit_ever: int = 0  # times per member, ever
    segments: tuple[str, ...] = ()  # only members of one of these (facts["segments"]; empty: all)

    @property
    def limited(self) -> bool:
        return bool(self.limit_per_day or self.limit_ever)

    def applies(self, basket: Basket, member: MemberState, local: dt.datetime) -> bool:
        if not in_segments(self.segments, member, self.promo_id):
            return False
        if self.birthday_month and member.facts.get("birth_month") != local.month:
            return False
        today, ever = member.facts.get("promo_uses", {}).get(self.promo_id, (0, 0))
        if (self.limit_per_day and today >= self.limit_per_day) or \
                (self.limit_ever and ever >= self.limit_ever):
            return False
        if self.days and DAYS[local.weekday()] not in self.days:
            return False
        if self.hours and not self.hours[0] <= local.time() < self.hours[1]:
            return False
        if (self.start and local.date() < self.start) or (self.end and local.date() > self.end):
            return False
        if basket.total_minor < self.min_spend_minor or (self.tiers and member.tier not in self.tiers):
            return False
        if self.skus or self.categories:
            return any(i.sku in self.skus or (i.category and i.category in self.categories)
                       for i in basket.items)
        return True


@dataclass(frozen=True)
class PunchCard:
    """Every ``every``-th qualifying item (by SKU or category) earns ``bonus_points``."""

    card_id: str
    name: str
    every: int
    bonus_points: int
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def punches(self, basket: Basket) -> int:
        return sum(i.qty for i in basket.items
                   if i.sku in self.skus or (i.category and i.category in self.categories))


@dataclass(frozen=True)
class TierReview:
    """What a tier review decides for one member (the ledger writes it; see docs/program.md)."""

    tier: str  # the member's tier after the review
    passed: dt.datetime | None = None  # a calendar review the member has just passed: record it
    grace_until: dt.datetime | None = None  # below the threshold, but kept until then


class Program(Protocol):
    """Everything a caller may ask of a program (the kiosk's previews, the ledger's apply)."""

    version: int
    name: str
    currency: str
    allow_unverified_uid: bool
    unknown_token: str  # "enrol": create a member on apply; "reject"
    enrolment_bonus: int  # points a member gets when an op enrols them
    grace_hours: float  # ops priced with this version are honoured this long after the next
    overdraft_points: int  # how far below zero a redemption may take a balance
    expire_after_days: int  # 0: points never expire
    timezone: str  # where a day (for caps and promotion limits) begins
    tier_window_days: int  # the days of earning that count towards a tier
    tiers: tuple  # program.rules.Tier, lowest threshold first; () for a program without tiers
    promotions: tuple[Promotion, ...]
    punch_cards: tuple[PunchCard, ...]
    catalogue: tuple[Reward, ...]  # every reward, targeted or not (``rewards`` filters)

    @property
    def needs_facts(self) -> bool:
        """Whether pricing reads MemberState.facts (the ledger computes them only then)."""
        ...

    def prices(self, currency: str) -> bool:
        """Whether this program prices baskets in ``currency`` (ISO 4217): a basket in
        another currency earns nothing and is refused, at the kiosk and at the ledger."""
        ...

    def line_weight(self, item: Item) -> Fraction:
        """The line's price times its SKU's or category's multiplier: its share of a basket's
        points (a refund of the line takes back that share, see program.refunds)."""
        ...

    def quote(self, basket: Basket, member: MemberState) -> Quote: ...

    def applied_promotions(self, quote: Quote) -> set[str]: ...

    def local_day(self, basket: Basket) -> str: ...

    def rewards(self, member: MemberState) -> list[Reward]: ...

    def targeted_segments(self) -> set[str]:
        """The segments the program's rewards and promotions are limited to (the ledger reads
        a member's membership only of these, into facts["segments"])."""
        ...

    def reward(self, reward_id: str) -> Reward | None: ...

    def tier_for(self, member: MemberState) -> str: ...

    def tier_rank(self, tier_id: str) -> int: ...

    def review(self, tier: str, points: int, now: dt.datetime, since: dt.datetime | None = None,
               reviewed: dt.datetime | None = None) -> TierReview: ...

    def review_reads_dates(self, tier: str, points: int) -> bool: ...


@dataclass
class DefaultProgram:
    """One point per whole currency unit spent, one reward."""

    version: int = 1
    name: str = "Loyalty"
    currency: str = "EUR"
    allow_unverified_uid: bool = True
    unknown_token: str = "enrol"
    points_per_unit: int = 1
    catalogue: tuple[Reward, ...] = (Reward("coffee", "Free coffee", 100, 250),)
    enrolment_bonus: int = 0
    grace_hours: float = 0.0
    overdraft_points: int = 0
    expire_after_days: int = 0
    tiers: tuple = ()
    timezone: str = "UTC"
    tier_window_days: int = 365
    promotions: tuple[Promotion, ...] = ()
    punch_cards: tuple[PunchCard, ...] = ()

    @property
    def needs_facts(self) -> bool:
        return False  # no tiers, caps, expiry or punch cards: pricing reads no history

    def prices(self, currency: str) -> bool:
        return currency == self.currency

    def line_weight(self, item: Item) -> Fraction:
        return Fraction(item.qty * item.unit_minor)  # no multipliers

    def quote(self, basket: Basket, member: MemberState) -> Quote:
        points = basket.total_minor // 100 * self.points_per_unit
        return Quote(points, (("base", points),))

    def rewards(self, member: MemberState) -> list[Reward]:
        return list(self.catalogue)

    def targeted_segments(self) -> set[str]:
        return set()  # nothing targeted

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.catalogue if r.reward_id == reward_id), None)

    def applied_promotions(self, quote: Quote) -> set[str]:
        return set()

    def local_day(self, basket: Basket) -> str:
        at = parse_time(basket.at) or dt.datetime.now(dt.UTC)
        return at.astimezone(ZoneInfo(self.timezone)).date().isoformat()

    def tier_for(self, member: MemberState) -> str:
        return member.tier  # no tiers: a member keeps the tier they were given

    def tier_rank(self, tier_id: str) -> int:
        return 0 if tier_id == "member" else -1  # as a rule program without tiers ranks them

    def review(self, tier: str, points: int, now: dt.datetime, since: dt.datetime | None = None,
               reviewed: dt.datetime | None = None) -> TierReview:
        return TierReview(tier)  # no tiers: nothing changes, nothing to record

    def review_reads_dates(self, tier: str, points: int) -> bool:
        return False


def parse_time(text: str) -> dt.datetime | None:
    """An op's created_at as an aware datetime (UTC when it names no zone); None if unusable."""
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
