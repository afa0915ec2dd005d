"""What the rule engine knows about a member, and what a sale changes in it besides the journal:
the facts a program reads (visits, points today and over the tier window, punches, birth month,
promotion uses), the tier review, points expiry, and promotion use counts. All inside the
caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from ledger.program import Basket, MemberState, Program
from ledger.rules import parse_time
from ledger.store import LedgerStore

log = logging.getLogger(__name__)


def member_state(store: LedgerStore, program: Program, member_id: str,
                 now: dt.datetime | None = None, basket: Basket | None = None) -> MemberState:
    """What the program may price with: balance, tier, and the facts it reads, if any."""
    member = store.member(member_id)
    facts = {}
    if getattr(program, "needs_facts", False):
        now = now or dt.datetime.now(dt.UTC)
        local = now.astimezone(ZoneInfo(program.timezone))
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        window = now - dt.timedelta(days=program.tier_window_days)
        facts = store.facts(member_id, _iso(day_start), _iso(window))
        if getattr(program, "punch_cards", ()):
            facts["punches"] = store.punches(member_id)
        promotions = getattr(program, "promotions", ())
        if any(p.birthday_month for p in promotions):
            facts["birth_month"] = store.birth_month(member_id)
        if basket is not None and any(p.limited for p in promotions):
            facts["promo_uses"] = store.promo_uses(member_id, program.local_day(basket))
    return MemberState(member_id, member.balance, member.tier, facts)


def count_promotions(store: LedgerStore, program: Program, member_id: str, basket: Basket,
                      quote) -> None:
    """Count the limited promotions this sale used, once per op (the op's transaction)."""
    limited = {p.promo_id for p in getattr(program, "promotions", ()) if p.limited}
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
        log.info("member %s: %d points expired", member_id, points)
    return points


def expiring(store: LedgerStore, program: Program, member_id: str,
             now: dt.datetime | None = None) -> int:
    """Points of the member that are past the program's expiry and not yet journalled so."""
    days = getattr(program, "expire_after_days", 0)
    if not days:
        return 0
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return store.expirable(member_id, _iso(cutoff))


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds")  # the journal's own format, so text compares


def review_tier(store: LedgerStore, program: Program, state: MemberState, earned: int) -> str:
    """Tiers follow the points earned over the window: the sale that crosses a threshold
    upgrades at once; a member below their tier's threshold moves down at their first sale
    after the tier's review date (reached + tier_hold_days; see docs/program.md)."""
    facts = {**state.facts, "window_points": state.facts.get("window_points", 0) + earned}
    tier = program.tier_for(MemberState(state.member_id, state.balance, state.tier, facts))
    if tier == state.tier:
        return tier
    if _is_downgrade(program, tier, state.tier) and not _review_due(store, program, state):
        return state.tier
    store.set_tier(state.member_id, tier)
    log.info("member %s: tier %s -> %s", state.member_id, state.tier, tier)
    return tier


def _is_downgrade(program: Program, new: str, old: str) -> bool:
    rank = getattr(program, "tier_rank", None)
    return rank is not None and 0 <= rank(new) < rank(old)


def _review_due(store: LedgerStore, program: Program, state: MemberState) -> bool:
    hold = getattr(program, "tier_hold_days", 0)
    since = parse_time(store.tier_since(state.member_id))
    return since is None or dt.datetime.now(dt.UTC) >= since + dt.timedelta(days=hold)
