"""Points expiring: points of the member that expire in the next ``days_ahead`` days (the
program's ``expire_after_days``, oldest points first); occasion ``expiring:<first expiry
date>``. A program without expiry has no such occasion."""

from __future__ import annotations

import datetime as dt

from ledger.automations.occasion import LIVE, Context, Occasion
from program.engine import parse_time


def find(ctx: Context) -> list[Occasion]:
    after = getattr(ctx.program, "expire_after_days", 0)
    if not after:
        return []
    cutoff = ctx.ago(after - ctx.settings.param("days_ahead"))  # earned before it: expiring
    rows = ctx.store.db.execute(
        "SELECT m.member_id, COALESCE(SUM(j.points), 0) FROM members m"
        f" JOIN journal j ON j.member_id = m.member_id WHERE {LIVE}"
        " GROUP BY m.member_id HAVING COALESCE(SUM(j.points), 0) > 0 ORDER BY m.member_id"
    ).fetchall()
    out = []
    for member_id, balance in rows:
        points = ctx.store.expirable(member_id, cutoff)
        if points:
            first = first_expiry(ctx, member_id, after)
            out.append(Occasion("points_expiring", member_id, f"expiring:{first.isoformat()}",
                                {"points": points, "expires_on": first.isoformat(),
                                 "balance": int(balance)}))
    return out


def first_expiry(ctx: Context, member_id: str, after: int) -> dt.date:
    """The day the member's oldest unspent points expire (spending takes the oldest first)."""
    rows = ctx.store.db.execute(
        "SELECT points, at FROM journal WHERE member_id = ? ORDER BY at, entry_id", (member_id,)
    ).fetchall()
    taken = sum(-p for p, _ in rows if p < 0)
    earned = 0
    for points, at in rows:
        if points > 0:
            earned += points
            if earned > taken:
                day = (parse_time(at) + dt.timedelta(days=after)).date()
                return max(day, ctx.today)
    return ctx.today  # not reached: the caller found expiring points
