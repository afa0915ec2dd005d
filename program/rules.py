"""The rule engine: a program file's rules as a ``Program`` both the kiosk and the ledger run.

Pure computation, no database and no network (the kiosk imports it for previews). Build one
with ``program.files.program_from_body`` from a validated program body. Exact fractions
are used throughout and rounded once per step, so the kiosk and the ledger always agree.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from zoneinfo import ZoneInfo

# Promotion, PunchCard, TierReview and parse_time live in program.engine (the Program protocol
# names them); imported here for this module's own use and for callers that import them from here.
from program.engine import (
    Basket,
    Item,
    MemberState,
    Promotion,
    PunchCard,
    Quote,
    Reward,
    TierReview,
    parse_time,
)

LONG_AGO = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a tier reached at an unknown time


@dataclass(frozen=True)
class Tier:
    tier_id: str
    name: str
    min_points: int  # points earned over the tier window to reach it
    multiplier: Fraction


ROUND = {"down": math.floor, "up": math.ceil,
         "nearest": lambda x: math.floor(x + Fraction(1, 2))}  # halves round up, both sides


@dataclass
class RuleProgram:
    """A hybrid points-and-tiers program; see docs/program.md for what each rule means."""

    version: int
    name: str
    currency: str = "EUR"
    allow_unverified_uid: bool = True
    unknown_token: str = "enrol"
    grace_hours: float = 0.0
    overdraft_points: int = 0  # how far below zero a redemption may take a balance
    timezone: str = "UTC"
    minor_per_unit: int = 100
    points_per_unit: Fraction = Fraction(1)
    rounding: str = "down"
    min_spend_minor: int = 0
    max_points_per_basket: int = 0  # 0: no cap
    max_points_per_day: int = 0
    enrolment_bonus: int = 0
    first_visit_bonus: int = 0
    expire_after_days: int = 0  # 0: points never expire
    categories: tuple[tuple[str, Fraction], ...] = ()
    skus: tuple[tuple[str, Fraction], ...] = ()
    tiers: tuple[Tier, ...] = ()  # lowest threshold first
    tier_window_days: int = 365
    tier_hold_days: int = 0  # a tier is kept at least this long after it was reached
    tier_review: tuple[int, int] | None = None  # (month, day): a calendar review every year
    tier_grace_days: int = 0  # below the threshold at the review: kept this many days more
    catalogue: tuple[Reward, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    punch_cards: tuple[PunchCard, ...] = ()

    @property
    def needs_facts(self) -> bool:
        """Whether pricing reads MemberState.facts (the ledger computes them only then)."""
        return bool(self.tiers or self.max_points_per_day or self.first_visit_bonus
                    or self.expire_after_days or self.punch_cards
                    or any(p.birthday_month or p.limited for p in self.promotions)
                    or bool(self.targeted_segments()))  # facts["segments"]

    # -- earning -------------------------------------------------------------------------
    def quote(self, basket: Basket, member: MemberState) -> Quote:
        if basket.total_minor < self.min_spend_minor or basket.total_minor <= 0:
            # a punch card counts items, whatever the basket's total
            return Quote(*self._capped([("min_spend", 0), *self._punch_steps(basket, member)],
                                       member))
        rnd = ROUND[self.rounding]
        exact = self._weighted(basket) / self.minor_per_unit * self.points_per_unit
        steps = [("base", rnd(exact))]
        tier = self._tier(member.tier)
        if tier is not None and tier.multiplier != 1:
            exact *= tier.multiplier
            steps.append((f"tier:{tier.tier_id}", rnd(exact) - sum(p for _, p in steps)))
        promos = [p for p in self.promotions if p.applies(basket, member, self._local(basket))]
        for promo in promos:
            if promo.multiplier != 1:
                exact *= promo.multiplier
                steps.append((f"promo:{promo.promo_id}", rnd(exact) - sum(p for _, p in steps)))
        steps += [(f"bonus:{p.promo_id}", p.bonus_points) for p in promos if p.bonus_points]
        if self.first_visit_bonus and member.facts.get("visits", -1) == 0:
            steps.append(("first_visit", self.first_visit_bonus))
        steps += self._punch_steps(basket, member)
        return Quote(*self._capped(steps, member))

    def _punch_steps(self, basket: Basket, member: MemberState) -> list[tuple[str, int]]:
        """A bonus for each card this basket fills (facts["punches"]: items bought so far)."""
        steps = []
        for card in self.punch_cards:
            before = member.facts.get("punches", {}).get(card.card_id, 0)
            full = (before + card.punches(basket)) // card.every - before // card.every
            if full:
                steps.append((f"punch:{card.card_id}", full * card.bonus_points))
        return steps

    def _weighted(self, basket: Basket) -> Fraction:
        """The paid total, shared out over the lines by price, each line times its multiplier."""
        lines = sum(i.qty * i.unit_minor for i in basket.items)
        if lines <= 0:
            return Fraction(basket.total_minor)
        weighted = sum(map(self.line_weight, basket.items))
        return Fraction(weighted) * basket.total_minor / lines

    def line_weight(self, item: Item) -> Fraction:
        """The line's price times its SKU's multiplier, else its category's, else 1."""
        skus, categories = self._multipliers
        return Fraction(item.qty * item.unit_minor) * skus.get(item.sku,
                                                              categories.get(item.category, 1))

    @cached_property
    def _multipliers(self) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
        return dict(self.skus), dict(self.categories)

    def prices(self, currency: str) -> bool:
        return currency == self.currency

    def _capped(self, steps: list, member: MemberState) -> tuple[int, tuple]:
        total = max(0, sum(p for _, p in steps))
        cap = self.max_points_per_basket or total
        if self.max_points_per_day:
            cap = min(cap, max(0, self.max_points_per_day - member.facts.get("earned_today", 0)))
        if total > cap:
            steps.append(("cap", cap - total))
            total = cap
        return total, tuple(steps)

    def applied_promotions(self, quote: Quote) -> set[str]:
        """The promotions a quote used (to count them against per-member limits)."""
        return {name.split(":", 1)[1] for name, _ in quote.breakdown
                if name.startswith(("promo:", "bonus:"))}

    def local_day(self, basket: Basket) -> str:
        """The basket's date in the program's time zone (the day promotion limits count)."""
        return self._local(basket).date().isoformat()

    def _local(self, basket: Basket) -> dt.datetime:
        at = parse_time(basket.at) or dt.datetime.now(dt.UTC)
        return at.astimezone(ZoneInfo(self.timezone))

    # -- tiers and rewards -------------------------------------------------------------------
    def _tier(self, tier_id: str) -> Tier | None:
        return next((t for t in self.tiers if t.tier_id == tier_id), None)

    def tier_for(self, member: MemberState) -> str:
        """The highest tier the member's points over the window reach (upgrade at once)."""
        if not self.tiers:
            return member.tier
        points = member.facts.get("window_points", 0)
        reached = [t for t in self.tiers if points >= t.min_points]
        return reached[-1].tier_id if reached else "member"

    def tier_rank(self, tier_id: str) -> int:
        """0 for 'member', 1 for the lowest tier and so on; -1 for a tier not in the program."""
        if tier_id == "member":
            return 0
        ids = [t.tier_id for t in self.tiers]
        return ids.index(tier_id) + 1 if tier_id in ids else -1

    def review(self, tier: str, points: int, now: dt.datetime, since: dt.datetime | None = None,
               reviewed: dt.datetime | None = None) -> TierReview:
        """The tier review of a member in ``tier`` with ``points`` over the window, at ``now``:
        up at once; down only once the review is due and its grace is over. ``since``: when
        the tier was reached (None: unknown, so due); ``reviewed``: the last calendar review
        the member passed."""
        reached = self._reached(tier, points)
        if 0 <= self.tier_rank(reached) < self.tier_rank(tier):
            return self._review_below(tier, reached, now, since, reviewed)
        if reached != tier or tier == "member" or self.tier_review is None or not since:
            return TierReview(reached)  # an upgrade, or nothing to record
        last = self.last_review(now)
        if last < self.review_date(since, reviewed):
            return TierReview(tier)  # not due yet
        return TierReview(tier, passed=last)  # qualified at (or in the grace after) a review

    def review_reads_dates(self, tier: str, points: int) -> bool:
        """Whether ``review`` needs ``since`` and ``reviewed`` (the ledger reads them only
        then: not for most sales)."""
        reached = self._reached(tier, points)
        return 0 <= self.tier_rank(reached) < self.tier_rank(tier) or \
            (reached == tier != "member" and self.tier_review is not None)

    def _reached(self, tier: str, points: int) -> str:
        return self.tier_for(MemberState(tier=tier, facts={"window_points": points}))

    def _review_below(self, tier: str, reached: str, now: dt.datetime,
                      since: dt.datetime | None, reviewed: dt.datetime | None) -> TierReview:
        """Below the tier's threshold: kept until the review date, then for the grace."""
        due = self.review_date(since, reviewed) if since else LONG_AGO
        if now < due:
            return TierReview(tier)
        if self.tier_review is not None:  # reviews nobody checked count as passed
            due = self.last_review(now)
        grace_until = due + dt.timedelta(days=self.tier_grace_days)
        return TierReview(tier, grace_until=grace_until) if now < grace_until \
            else TierReview(reached)

    def review_date(self, since: dt.datetime, reviewed: dt.datetime | None = None) -> dt.datetime:
        """When a tier reached at ``since`` is reviewed: ``tier_hold_days`` later; with
        ``tier_review``, the first review date (00:00 local time) at least that late, and
        after ``reviewed``, the last review the member passed in this tier."""
        earliest = since + dt.timedelta(days=self.tier_hold_days)
        if self.tier_review is None:
            return earliest
        if reviewed is not None and reviewed >= since:
            earliest = max(earliest, reviewed + dt.timedelta(microseconds=1))
        return self._review_on_or_after(earliest)

    def last_review(self, now: dt.datetime) -> dt.datetime:
        """The latest calendar review date at or before ``now`` (with ``tier_review`` set)."""
        year = now.astimezone(ZoneInfo(self.timezone)).year
        return next(at for at in map(self._review_in, (year, year - 1)) if at <= now)

    def _review_on_or_after(self, at: dt.datetime) -> dt.datetime:
        year = at.astimezone(ZoneInfo(self.timezone)).year
        return next(day for day in map(self._review_in, (year, year + 1)) if day >= at)

    def _review_in(self, year: int) -> dt.datetime:
        month, day = self.tier_review
        return dt.datetime(year, month, day, tzinfo=ZoneInfo(self.timezone)).astimezone(dt.UTC)

    def rewards(self, member: MemberState) -> list[Reward]:
        return [r for r in self.catalogue if r.reaches(member)]

    def targeted_segments(self) -> set[str]:
        return {s for x in (*self.catalogue, *self.promotions) for s in x.segments}

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.catalogue if r.reward_id == reward_id), None)

