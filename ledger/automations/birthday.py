"""Birthday: ``days_ahead`` days before the member's birthday (or on it, if the ledger learnt the
date later); once a year, occasion ``birthday:<year>``. Born on 29 February: the 28th in a year
without one."""

from __future__ import annotations

import datetime as dt

from ledger.automations.occasion import Context, Occasion


def next_birthday(born: dt.date, today: dt.date) -> dt.date:
    """The member's birthday on or after ``today``."""
    for year in (today.year, today.year + 1):
        day = _in_year(born, year)
        if day >= today:
            return day
    raise AssertionError("unreachable: next year's birthday is after today")


def _in_year(born: dt.date, year: int) -> dt.date:
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)


def find(ctx: Context) -> list[Occasion]:
    rows = ctx.store.db.execute(
        "SELECT member_id, birth_date FROM member_profiles WHERE birth_date IS NOT NULL"
        " AND forgotten_at IS NULL ORDER BY member_id"
    ).fetchall()
    ahead = ctx.settings.param("days_ahead")
    out = []
    for member_id, text in rows:
        day = next_birthday(dt.date.fromisoformat(text), ctx.today)
        if (day - ctx.today).days <= ahead:
            out.append(Occasion("birthday", member_id, f"birthday:{day.year}",
                                {"birthday": day.isoformat(), "days_left": (day - ctx.today).days}))
    return out
