"""Tier up and tier down: a ``tier.changed`` event (ledger/events.py, written where the tier
review changes a tier) in the last ``within_days`` days, its direction read from the program's
tier order; occasion ``<new tier>:<event id>``, so every change is told once."""

from __future__ import annotations

import json

from ledger.automations.occasion import LIVE, Context, Occasion


def _moves(ctx: Context) -> list[tuple[str, str, str, str]]:
    """(event id, member, old tier, new tier) of the recent tier changes of live members."""
    rows = ctx.store.db.execute(
        "SELECT e.event_id, e.member_id, e.data FROM events e JOIN members m"
        f" ON m.member_id = e.member_id WHERE e.type = 'tier.changed' AND e.at >= ? AND {LIVE}"
        " ORDER BY e.seq",
        (ctx.ago(ctx.settings.param("within_days")),),
    ).fetchall()
    out = []
    for event_id, member_id, text in rows:
        data = json.loads(text)
        old, new = data.get("from"), data.get("to")
        if isinstance(old, str) and isinstance(new, str):
            out.append((event_id, member_id, old, new))
    return out


def _find(ctx: Context, name: str, up: bool) -> list[Occasion]:
    rank = ctx.program.tier_rank
    return [Occasion(name, member_id, f"{new}:{event_id}", {"tier": tier_name(ctx, new), "previous_tier": tier_name(ctx, old)})
            for event_id, member_id, old, new in _moves(ctx)
            if (rank(new) > rank(old)) == up and rank(new) != rank(old)]


def tier_name(ctx: Context, tier_id: str) -> str:
    """The tier's name as the program file gives it (its id for 'member' or an unknown one)."""
    return next((t.name for t in getattr(ctx.program, "tiers", ()) if t.tier_id == tier_id),
                tier_id)


def find_up(ctx: Context) -> list[Occasion]:
    return _find(ctx, "tier_up", True)


def find_down(ctx: Context) -> list[Occasion]:
    return _find(ctx, "tier_down", False)
