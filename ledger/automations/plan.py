"""Who gets what now: each automation's occasions, with what would be done with each (send on
which channels, or why not). `preview` and `run --dry-run` print it; `run` sends the ``send``s.

Consent: email only to a member with an email address whose email consent holds now (the
newest consent row says given); the webhook channel carries ids and figures only, so it fires
for every live member (a receiver that messages the member checks consent itself). Forgotten
members have no occasion at all. The cap: at most ``cap_count`` sends of the automation per
member in ``cap_days`` days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.automations import (
    birthday,
    nearing_reward,
    points_expiring,
    reward_available,
    sends,
    tier_change,
    welcome,
    win_back,
)
from ledger.automations.occasion import Context, Occasion
from ledger.segments import consented
from ledger.store import LedgerStore
from program.automations import Automation
from program.engine import Program

FINDERS = {
    "welcome": welcome.find, "win_back": win_back.find, "birthday": birthday.find,
    "nearing_reward": nearing_reward.find, "reward_available": reward_available.find,
    "points_expiring": points_expiring.find, "tier_up": tier_change.find_up,
    "tier_down": tier_change.find_down,
}


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    language: str | None
    email_consent: bool


@dataclass(frozen=True)
class Planned:
    occasion: Occasion
    contact: Contact
    channels: tuple[str, ...]  # what it would go out on; empty: not sent, ``reason`` says why
    reason: str = "send"


def plan(store: LedgerStore, program: Program, settings: Automation,
         now: dt.datetime) -> list[Planned]:
    """Every occasion of the automation at ``now`` and what would be done with it."""
    ctx = Context(store, program, settings, now)
    done = sends.known(store, settings.name)
    return [_decide(ctx, o, done.get((o.member_id, o.key))) for o in FINDERS[settings.name](ctx)]


def _decide(ctx: Context, occasion: Occasion, state: str | None) -> Planned:
    contact = contact_of(ctx.store, occasion.member_id)
    if state == sends.SENT:
        return Planned(occasion, contact, (), "sent already")
    if state == sends.SENDING:
        return Planned(occasion, contact, (), "sending or unsure (never sent twice)")
    if capped(ctx.store.db, ctx.settings, occasion.member_id, ctx.now):
        return Planned(occasion, contact, (), "capped")
    channels = deliverable(ctx.settings, contact)
    if not channels:
        return Planned(occasion, contact, (), "no email consent or address")
    return Planned(occasion, contact, channels)


def deliverable(settings: Automation, contact: Contact) -> tuple[str, ...]:
    email_ok = bool(contact.email) and contact.email_consent
    return tuple(c for c in settings.channels if c == "webhook" or email_ok)


def capped(db, settings: Automation, member_id: str, now: dt.datetime) -> bool:
    if not settings.cap_days:
        return False
    since = (now - dt.timedelta(days=settings.cap_days)).isoformat(timespec="milliseconds")
    return sends.recent_count(db, settings.name, member_id, since) >= settings.cap_count


def contact_of(store: LedgerStore, member_id: str) -> Contact:
    row = store.db.execute(
        f"SELECT m.name, p.email, p.language, {consented('m.member_id')} FROM members m"
        " LEFT JOIN member_profiles p ON p.member_id = m.member_id WHERE m.member_id = ?",
        ("email", member_id),
    ).fetchone()
    return Contact(row[0], row[1], row[2], bool(row[3]))
