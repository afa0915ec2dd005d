"""What a member's own page shows (the web's /me page, docs/back-office.md "The member's page"):
balance, tier and the way to the next one, points that will expire and when, rewards and
personal offers, history. Read only; every figure comes from the code the kiosk's answers come
from (ledger.apply.lookup, ledger.memberstate), never computed a second way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ledger.apply import lookup
from ledger.memberstate import member_state
from ledger.store import LedgerStore
from program.engine import Program

EXPIRY_HORIZON_DAYS = 90  # how far ahead the page tells of points expiring
EXPIRY_STEP_DAYS = 7  # the page groups expiring points by week
HISTORY_ROWS = 50


@dataclass(frozen=True)
class NextTier:
    name: str
    needed: int  # points still to earn over the tier window
    progress: float  # 0..1


@dataclass(frozen=True)
class Expiry:
    points: int
    by: dt.date  # expired by the end of this day, unless spent first


@dataclass(frozen=True)
class PageData:
    member_id: str
    name: str
    tier: str  # the tier's name, as the program calls it
    balance: int
    next_tier: NextTier | None
    expiring: list[Expiry]
    rewards: list[dict]  # as the kiosk's lookup reply lists them (name, cost, affordable)
    offers: list[dict]
    history: list[dict] = field(default_factory=list)  # newest first


def page_data(store: LedgerStore, program: Program, member_id: str,
              now: dt.datetime | None = None) -> PageData | None:
    """The page of ``member_id``; None when there is no such member."""
    reply = lookup(store, program, {"member_id": member_id})  # the operator's path: no proof
    if not reply["found"]:
        return None
    now = now or dt.datetime.now(dt.UTC)
    state = member_state(store, program, member_id, now)
    tier_id = reply["member"]["tier"]
    history = store.history(member_id)[-HISTORY_ROWS:][::-1]
    return PageData(member_id, reply["member"]["name"], _tier_name(program, tier_id),
                    reply["balance"], next_tier(program, tier_id, state.facts),
                    expiry_schedule(store, program, member_id, now), reply.get("rewards", []),
                    reply.get("offers", []), history)


def _tier_name(program: Program, tier_id: str) -> str:
    tier = next((t for t in program.tiers if t.tier_id == tier_id), None)
    return tier.name if tier else tier_id


def next_tier(program: Program, tier_id: str, facts: dict) -> NextTier | None:
    """The tier above ``tier_id`` and what the member still needs over the window (facts'
    ``window_points``, as the tier review reads them); None at the top or without tiers."""
    tiers = list(program.tiers)
    above = [t for t in tiers if program.tier_rank(t.tier_id) > program.tier_rank(tier_id)]
    if not above:
        return None
    target = above[0]
    points = facts.get("window_points", 0)
    progress = min(1.0, points / target.min_points) if target.min_points else 1.0
    return NextTier(target.name, max(0, target.min_points - points), progress)


def expiry_schedule(store: LedgerStore, program: Program, member_id: str,
                    now: dt.datetime) -> list[Expiry]:
    """Points that will expire in the next EXPIRY_HORIZON_DAYS, week by week (the points a
    week adds): ledger.memberstate's rule, oldest points spent first, asked at later dates."""
    days = program.expire_after_days
    if not days:
        return []
    out, before = [], _expirable(store, member_id, now, days)
    for step in range(EXPIRY_STEP_DAYS, EXPIRY_HORIZON_DAYS + 1, EXPIRY_STEP_DAYS):
        at = now + dt.timedelta(days=step)
        points = _expirable(store, member_id, at, days)
        if points > before:
            out.append(Expiry(points - before, at.date()))
        before = points
    return out


def _expirable(store: LedgerStore, member_id: str, at: dt.datetime, days: int) -> int:
    cutoff = (at - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
    return store.expirable(member_id, cutoff)
