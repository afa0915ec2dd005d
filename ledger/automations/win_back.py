"""Win-back (Square's default): a member who made ``min_purchases`` purchases in the
``period_days`` up to their last one, then stayed away ``away_days`` (but not yet
``give_up_days``); once per absence, occasion ``win-back:<date of the last purchase>``."""

from __future__ import annotations

import datetime as dt

from ledger.automations.occasion import LIVE, Context, Occasion
from program.engine import parse_time


def find(ctx: Context) -> list[Occasion]:
    p = ctx.settings.param
    rows = ctx.store.db.execute(
        "SELECT b.member_id, MAX(b.at) FROM baskets b JOIN members m ON m.member_id = b.member_id"
        f" WHERE {LIVE} GROUP BY b.member_id HAVING MAX(b.at) <= ? AND MAX(b.at) > ?"
        " ORDER BY b.member_id",
        (ctx.ago(p("away_days")), ctx.ago(p("give_up_days"))),
    ).fetchall()
    out = []
    for member_id, last in rows:
        since = parse_time(last) - dt.timedelta(days=p("period_days"))
        count = ctx.store.db.execute(
            "SELECT COUNT(*) FROM baskets WHERE member_id = ? AND at > ? AND at <= ?",
            (member_id, since.isoformat(timespec="milliseconds"), last),
        ).fetchone()[0]
        if count >= p("min_purchases"):
            away = (ctx.now - parse_time(last)).days
            out.append(Occasion("win_back", member_id, f"win-back:{last[:10]}",
                                {"last_purchase": last[:10], "days_away": away,
                                 "purchases": int(count)}))
    return out
