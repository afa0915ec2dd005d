"""Welcome: a member who joined in the last ``within_days`` days; once per member."""

from __future__ import annotations

from ledger.automations.occasion import LIVE, Context, Occasion


def find(ctx: Context) -> list[Occasion]:
    rows = ctx.store.db.execute(
        f"SELECT m.member_id, m.created_at FROM members m WHERE m.created_at >= ? AND {LIVE}"
        " ORDER BY m.member_id",
        (ctx.ago(ctx.settings.param("within_days")),),
    ).fetchall()
    return [Occasion("welcome", member_id, "welcome", {"joined": at[:10]}) for member_id, at in rows]
