"""What the rule engine knows about a member, and what a sale changes in it besides the journal:
the facts a program reads (visits, points today and over the tier window, punches, birth month,
promotion uses), the tier review, points expiry, and promotion use counts. All inside the
caller's transaction, except ``review_members`` (`ledger program review`), which makes its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ledger import db as dbm
from ledger import events
from ledger.segment_book import member_segments
from ledger.store import LedgerStore
from program.engine import Basket, MemberState, Program, TierReview, parse_time

log = logging.getLogger(__name__)


def member_state(store: LedgerStore, program: Program, member_id: str,
                 now: dt.datetime | None = None, basket: Basket | None = None) -> MemberState:
    """What the program may price with: balance, tier, and the facts it reads, if any."""
    member = store.member(member_id)
    facts = {}
    if program.needs_facts:
        now = now or dt.datetime.now(dt.UTC)
        local = now.astimezone(ZoneInfo(program.timezone))
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        window = now - dt.timedelta(days=program.tier_window_days)
        facts = store.facts(member_id, _iso(day_start), _iso(window))
        if program.punch_cards:
            facts["punches"] = store.punches(member_id)
        if any(p.birthday_month for p in program.promotions):
            facts["birth_month"] = store.birth_month(member_id)
        if basket is not None and any(p.limited for p in program.promotions):
            facts["promo_uses"] = store.promo_uses(member_id, program.local_day(basket))
    if targeted := program.targeted_segments():  # segment offers (docs/segments.md)
        facts = {**facts, "segments": sorted(member_segments(store, member_id, targeted, now))}
    return MemberState(member_id, member.balance, member.tier, facts)


def count_promotions(store: LedgerStore, program: Program, member_id: str, basket: Basket,
                      quote) -> None:
    """Count the limited promotions this sale used, once per op (the op's transaction)."""
    limited = {p.promo_id for p in program.promotions if p.limited}
    if not limited:
        return
    for promo_id in sorted(limited & program.applied_promotions(quote)):
        store.use_promo(member_id, promo_id, program.local_day(basket))


def expire_points(store: LedgerStore, program: Program, member_id: str,
                  now: dt.datetime | None = None) -> int:
    """Journal the expiry of the member's points older than the program allows (oldest
    first); the points expired. Runs before each op of the member and in `ledger program
    expire`, so a balance never counts expired points when it is used."""
    points = expiring(store, program, member_id, now)
    if points:
        store.journal(member_id, "expire", -points,
                      reason=f"points older than {program.expire_after_days} days")
        events.emit(store.db, "points.expired", member_id,
                    {"points": points, "balance": store.balance(member_id),
                     "after_days": program.expire_after_days})
        log.info("member %s: %d points expired", member_id, points)
    return points


def expiring(store: LedgerStore, program: Program, member_id: str,
             now: dt.datetime | None = None) -> int:
    """Points of the member that are past the program's expiry and not yet journalled so."""
    if not program.expire_after_days:
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=program.expire_after_days)
    return store.expirable(member_id, _iso(cutoff))


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds")  # the journal's own format, so text compares


def review_tier(store: LedgerStore, program: Program, state: MemberState, earned: int,
                now: dt.datetime | None = None) -> str:
    """Tiers follow the points earned over the window: the sale that crosses a threshold
    upgrades at once; a member below their tier's threshold moves down once the tier's review
    date and its grace are past (see docs/program.md). The member's tier after the sale."""
    now = now or dt.datetime.now(dt.UTC)
    outcome = tier_review(store, program, state, earned, now)
    record_review(store, state, outcome, now)
    return outcome.tier


def tier_review(store: LedgerStore, program: Program, state: MemberState, earned: int,
                now: dt.datetime) -> TierReview:
    """What the review decides for the member at ``now`` (nothing written); ``earned``: the
    points of the sale being applied, not in ``state`` yet."""
    points = state.facts.get("window_points", 0) + earned
    since = reviewed = None
    if program.review_reads_dates(state.tier, points):  # one read saved on most sales
        since_text, reviewed_text = store.tier_dates(state.member_id)
        since, reviewed = parse_time(since_text), parse_time(reviewed_text or "")
    return program.review(state.tier, points, now, since, reviewed)


def record_review(store: LedgerStore, state: MemberState, outcome: TierReview,
                  now: dt.datetime) -> None:
    if outcome.tier != state.tier:
        store.set_tier(state.member_id, outcome.tier, since=_iso(now))
        events.emit(store.db, "tier.changed", state.member_id,
                    {"from": state.tier, "to": outcome.tier, "at": _iso(now)})
        log.info("member %s: tier %s -> %s", state.member_id, state.tier, outcome.tier)
    elif outcome.passed is not None:
        store.set_tier_reviewed(state.member_id, _iso(outcome.passed))


@dataclass(frozen=True)
class Reviewed:
    """One member in `ledger program review`."""

    member_id: str
    name: str
    old: str
    new: str
    grace_until: dt.datetime | None = None


def review_members(store: LedgerStore, program: Program, now: dt.datetime | None = None,
                   dry_run: bool = False, batch: int = 200) -> Iterator[Reviewed]:
    """Review every member's tier at ``now``, one transaction per ``batch`` members (rolled
    back with ``dry_run``); yields each member reviewed. A clash with a ledger worker on
    PostgreSQL (a deadlock) retries the batch. Idempotent: a second run changes nothing."""
    now = now or dt.datetime.now(dt.UTC)
    after = ""
    while ids := store.member_ids(after, batch):
        yield from _review_batch(store, program, ids, now, dry_run)
        after = ids[-1]


def _review_batch(store: LedgerStore, program: Program, ids: list[str], now: dt.datetime,
                  dry_run: bool, attempts: int = 3) -> list[Reviewed]:
    for attempt in range(attempts):
        try:
            with store.transaction():
                done = [_review_one(store, program, member_id, now, dry_run)
                        for member_id in ids]
                if dry_run:
                    raise _DryRun(done)
            return done
        except _DryRun as result:
            return result.done
        except Exception as exc:
            if not (dbm.retryable(exc) and attempt + 1 < attempts):
                raise
            log.info("tier review clashed with a ledger worker (%s); again", type(exc).__name__)
    raise AssertionError("unreachable")  # the loop returns or raises


class _DryRun(Exception):
    """Leaves a dry run's transaction by its rollback, carrying what it would have done."""

    def __init__(self, done: list[Reviewed]) -> None:
        super().__init__("dry run")
        self.done = done


def _review_one(store: LedgerStore, program: Program, member_id: str, now: dt.datetime,
                dry_run: bool) -> Reviewed:
    store.lock_member(member_id)  # PostgreSQL: no worker applies an op for them meanwhile
    state = member_state(store, program, member_id, now=now)
    outcome = tier_review(store, program, state, 0, now)
    if not dry_run:
        record_review(store, state, outcome, now)
    name = store.member(member_id).name if outcome.tier != state.tier else ""  # to print it
    return Reviewed(member_id, name, state.tier, outcome.tier, outcome.grace_until)
