"""The KPIs that are series rather than one number: promotion uplift per promotion, the trend of
a period (per day, or per month past 62 days) and enrolment cohorts' monthly retention. Same
rules as ledger.kpis (docs/reports.md); SQL for SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt

from ledger import journal_days
from ledger.report_scope import Period, Scope, day_iso
from ledger.store import LedgerStore

DAILY_UP_TO = 62  # days; a longer period's trend is per month
COHORT_MONTHS = 12


def _int(value) -> int:
    return int(value or 0)


def _money(currency: str) -> tuple[str, list]:
    return "CASE WHEN b.currency = ? OR ? = '' THEN b.total_minor END", [currency, currency]


def promotions(ledger: LedgerStore, period: Period, scope: Scope, s) -> dict:
    """Per dated promotion overlapping the period: the members who paid a basket in its
    window (within the period), their spend there, and theirs in as many days just before."""
    found = {}
    for promo in s.promotions:
        if promo.start is None and promo.end is None:
            continue  # weekly or hourly promotions have no window to compare with
        start = max(promo.start or period.start, period.start)
        end = min(promo.end + dt.timedelta(days=1) if promo.end else period.end, period.end)
        if start >= end:
            continue
        found[promo.promo_id] = _uplift(ledger, Period(start, end), scope, s.currency)
    return found


def _uplift(ledger: LedgerStore, window: Period, scope: Scope, currency: str) -> dict:
    where, values = scope.baskets("b")
    money, money_values = _money(currency)
    row = ledger.db.execute(
        "WITH promo AS (SELECT DISTINCT member_id FROM baskets b WHERE member_id IS NOT NULL"
        f" AND at >= ? AND at < ? AND {where})"
        f" SELECT (SELECT COUNT(*) FROM promo), SUM(CASE WHEN b.at >= ? THEN {money} END),"
        f" SUM(CASE WHEN b.at < ? THEN {money} END) FROM baskets b"
        f" WHERE b.member_id IN (SELECT member_id FROM promo) AND b.at >= ? AND b.at < ?"
        f" AND {where}",
        [
            window.start_iso,
            window.end_iso,
            *values,
            window.start_iso,
            *money_values,
            window.start_iso,
            *money_values,
            window.previous().start_iso,
            window.end_iso,
            *values,
        ],
    ).fetchone()
    buyers, spend, before = (_int(v) for v in row)
    return {
        "from": window.start.isoformat(),
        "to": (window.end - dt.timedelta(days=1)).isoformat(),
        "members": buyers,
        "spend_minor": spend,
        "spend_before_minor": before,
        "uplift": round(spend / before - 1, 4) if before else None,
    }


def buckets(period: Period) -> tuple[int, list[str]]:
    """The trend's bucket keys (``YYYY-MM-DD`` or ``YYYY-MM``) and their key length."""
    if period.days <= DAILY_UP_TO:
        return 10, [(period.start + dt.timedelta(days=n)).isoformat() for n in range(period.days)]
    first, last = _month(period.start), _month(period.end - dt.timedelta(days=1))
    return 7, [_month_key(m) for m in range(first, last + 1)]


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_key(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def trend(ledger: LedgerStore, period: Period, scope: Scope, currency: str) -> dict:
    """Per bucket: baskets, member baskets, revenue, points issued and redeemed."""
    width, keys = buckets(period)
    where, values = scope.baskets("b")
    money, money_values = _money(currency)
    found = {
        k: {"baskets": 0, "member_baskets": 0, "revenue_minor": 0, "issued": 0, "redeemed": 0}
        for k in keys
    }
    for key, paid, member, revenue in ledger.db.execute(
        f"SELECT substr(b.at, 1, {width}), COUNT(*), COUNT(b.member_id), SUM({money})"
        f" FROM baskets b WHERE b.at >= ? AND b.at < ? AND {where} GROUP BY 1",
        [*money_values, period.start_iso, period.end_iso, *values],
    ).fetchall():
        found[key].update(
            baskets=_int(paid), member_baskets=_int(member), revenue_minor=_int(revenue)
        )
    for key, issued, redeemed in _journal_trend(ledger, period, scope, width):
        found[key].update(issued=_int(issued), redeemed=_int(redeemed))
    return found


def _journal_trend(ledger: LedgerStore, period: Period, scope: Scope, width: int) -> list[tuple]:
    """(bucket, issued, redeemed): the whole ledger's from the day sums (ledger.journal_days),
    a store's from its members' entries."""
    if scope.whole:
        return journal_days.trend(ledger, period, width)
    base, base_values = scope.journal_members(period.end_iso)
    return ledger.db.execute(
        f"SELECT substr(at, 1, {width}), SUM(CASE WHEN points > 0 AND kind IN ('earn',"
        " 'bonus', 'adjust') THEN points END), SUM(CASE WHEN kind = 'redeem' THEN -points"
        f" END) FROM journal WHERE at >= ? AND at < ?{base} GROUP BY 1",
        [period.start_iso, period.end_iso, *base_values],
    ).fetchall()


def cohorts(ledger: LedgerStore, period: Period, scope: Scope) -> list[dict]:
    """Members enrolled in each of the 12 months up to the period's last month, and the share
    of them who paid a basket (in scope) in each month since, up to that last month."""
    last = _month(period.end - dt.timedelta(days=1))
    first = last - COHORT_MONTHS + 1
    since = day_iso(dt.date(first // 12, first % 12 + 1, 1))
    base, base_values = scope.member_base(period.end_iso)
    sizes = dict(
        ledger.db.execute(
            f"SELECT substr(created_at, 1, 7), COUNT(*) FROM members WHERE member_id IN ({base})"
            " AND created_at >= ? GROUP BY 1",
            [*base_values, since],
        ).fetchall()
    )
    where, values = scope.baskets("b")
    if scope.whole:  # every member enrolled by the end: a condition, not a semi-join
        in_base, base_values = "m.created_at < ?", [period.end_iso]
    else:
        in_base = f"m.member_id IN ({base})"
    # Each member's months first (a hash aggregate), then counted: COUNT(DISTINCT) sorts.
    seen = {
        (c, v): _int(n)
        for c, v, n in ledger.db.execute(
            "SELECT cohort, month, COUNT(*) FROM (SELECT DISTINCT b.member_id,"
            " substr(m.created_at, 1, 7) AS cohort, substr(b.at, 1, 7) AS month FROM baskets b"
            " JOIN members m ON m.member_id = b.member_id WHERE b.at >= ? AND b.at < ?"
            f" AND m.created_at >= ? AND {where} AND {in_base}) v GROUP BY 1, 2",
            [since, period.end_iso, since, *values, *base_values],
        ).fetchall()
    }
    found = []
    for month in range(first, last + 1):
        key, size = _month_key(month), _int(sizes.get(_month_key(month)))
        if size:
            found.append(
                {
                    "cohort": key,
                    "members": size,
                    "retention": [
                        round(seen.get((key, _month_key(m)), 0) / size, 4)
                        for m in range(month, last + 1)
                    ],
                }
            )
    return found


def kiosks(ledger: LedgerStore, period: Period, scope: Scope) -> dict:
    """Per kiosk: paid baskets, those with a member attached, and their ratio, the tap-to-attach
    conversion of ledger.kpis.baskets (same rule, one kiosk at a time), busiest first."""
    where, values = scope.baskets()
    rows = ledger.db.execute(
        "SELECT kiosk, COUNT(*), COUNT(member_id) FROM baskets WHERE at >= ? AND at < ?"
        f" AND {where} GROUP BY kiosk ORDER BY COUNT(*) DESC, kiosk",
        [period.start_iso, period.end_iso, *values],
    ).fetchall()
    return {
        kiosk: {"baskets": _int(paid), "member_baskets": _int(member),
                "conversion": round(_int(member) / _int(paid), 4)}  # as kpis.ratio: paid >= 1
        for kiosk, paid, member in rows
    }
