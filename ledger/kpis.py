"""The shop owner's KPIs for a period and a scope, each defined with its formula in docs/reports.md.

One place computes them, in SQL that runs on SQLite and PostgreSQL alike, so the report
(`ledger report`) and the back office show the same figures. ``figures`` gives one period's;
``compare`` puts a period beside the one before it. Series for the charts (trend, cohorts)
are in ledger.kpi_series; both read only what ``Settings`` and the tables hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from ledger import journal_days
from ledger.report_scope import Period, Scope
from ledger.store import LedgerStore
from program.engine import Promotion


@dataclass(frozen=True)
class Settings:
    """What the figures need from the program and the operator."""

    currency: str = ""  # money figures count only baskets in this currency ("": any)
    point_value_minor: Fraction | None = None  # None: the program gives no value per point
    active_days: int = 30  # a visit within this many days before the period's end: active
    dormant_days: int = 60  # no visit within this many days: dormant (between: inactive)
    promotions: tuple[Promotion, ...] = field(default=())


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def _last(period: Period) -> str:
    return (period.end - dt.timedelta(days=1)).isoformat()  # the last day, as typed


def _int(value) -> int:
    return int(value or 0)  # PostgreSQL sums BIGINT as numeric (Decimal)


def members(ledger: LedgerStore, period: Period, scope: Scope, s: Settings) -> dict:
    base, base_values = scope.member_base(period.end_iso)
    where, values = scope.baskets()
    row = ledger.db.execute(
        # Only visits since the dormant threshold decide: older ones leave a member dormant.
        f"WITH base AS ({base}), last AS (SELECT member_id, MAX(at) AS last_at FROM baskets"
        f" WHERE member_id IS NOT NULL AND at >= ? AND at < ? AND {where} GROUP BY member_id)"
        " SELECT COUNT(*), SUM(CASE WHEN m.created_at >= ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN l.last_at >= ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN l.last_at >= ? AND l.last_at < ? THEN 1 ELSE 0 END)"
        " FROM base JOIN members m ON m.member_id = base.member_id"
        " LEFT JOIN last l ON l.member_id = base.member_id",
        [
            *base_values,
            period.before_end(s.dormant_days),
            period.end_iso,
            *values,
            period.start_iso,
            period.before_end(s.active_days),
            period.before_end(s.dormant_days),
            period.before_end(s.active_days),
        ],
    ).fetchone()
    total, new, active, inactive = (_int(v) for v in row)
    return {
        "members": total,
        "new_members": new,
        "active": active,
        "inactive": inactive,
        "dormant": total - active - inactive,
    }


def baskets(ledger: LedgerStore, period: Period, scope: Scope, s: Settings) -> dict:
    where, values = scope.baskets()
    money = "CASE WHEN currency = ? OR ? = '' THEN total_minor END"
    row = ledger.db.execute(
        f"SELECT COUNT(*), COUNT(member_id), COUNT({money}),"
        f" SUM({money}), COUNT(CASE WHEN member_id IS NOT NULL THEN {money} END),"
        f" SUM(CASE WHEN member_id IS NOT NULL THEN {money} END)"
        f" FROM baskets WHERE at >= ? AND at < ? AND {where}",
        [*[s.currency] * 8, period.start_iso, period.end_iso, *values],
    ).fetchone()
    paid, with_member, priced, revenue, member_priced, member_revenue = (_int(v) for v in row)
    visits = ledger.db.execute(
        "SELECT COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM (SELECT member_id,"
        " COUNT(*) AS n FROM baskets WHERE member_id IS NOT NULL AND at >= ? AND at < ?"
        f" AND {where} GROUP BY member_id) v",
        [period.start_iso, period.end_iso, *values],
    ).fetchone()
    visitors, repeaters = _int(visits[0]), _int(visits[1])
    return {
        "baskets": paid,
        "member_baskets": with_member,
        "revenue_minor": revenue,
        "member_revenue_minor": member_revenue,
        "visitors": visitors,
        "repeaters": repeaters,
        "repeat_rate": ratio(repeaters, visitors),
        "visit_frequency": ratio(with_member, visitors),
        "atv_all_minor": ratio(revenue, priced),
        "atv_members_minor": ratio(member_revenue, member_priced),
        "conversion": ratio(with_member, paid),
    }


def points(
    ledger: LedgerStore, period: Period, scope: Scope, s: Settings, outstanding: int | None = None
) -> dict:
    """The period's points; ``outstanding`` at its end when the caller knows it already (the
    one figure that reads every journal entry, not only the period's)."""
    if scope.whole:  # the day sums hold the same figures (ledger.journal_days)
        row = journal_days.sums(ledger, period)
        if outstanding is None:
            outstanding = _int(journal_days.outstanding(ledger, period))
    else:
        row, outstanding = _scoped_points(ledger, period, scope, outstanding)
    issued, redeemed, expired, refunded, net = (_int(v) for v in row)
    value = s.point_value_minor
    return {
        "issued": issued,
        "redeemed": redeemed,
        "expired": expired,
        "refunded": refunded,
        "net": net,
        "outstanding": outstanding,
        "liability_minor": None if value is None else int(outstanding * value + Fraction(1, 2)),
        "redemption_rate": ratio(redeemed, issued),
        "breakage": ratio(expired, redeemed + expired),
    }


def _scoped_points(
    ledger: LedgerStore, period: Period, scope: Scope, outstanding: int | None
) -> tuple[tuple, int]:
    """kpis.points' sums and outstanding for a store, lane or kiosk: from the entries of its
    members."""
    base, base_values = scope.journal_members(period.end_iso)
    row = ledger.db.execute(
        "SELECT SUM(CASE WHEN points > 0 AND kind IN ('earn', 'bonus', 'adjust') THEN points END),"
        " SUM(CASE WHEN kind = 'redeem' THEN -points END),"
        " SUM(CASE WHEN kind = 'expire' THEN -points END),"
        " SUM(CASE WHEN kind = 'refund' THEN -points END), SUM(points)"
        f" FROM journal WHERE at >= ? AND at < ?{base}",
        [period.start_iso, period.end_iso, *base_values],
    ).fetchone()
    if outstanding is None:
        outstanding = _int(
            ledger.db.execute(
                f"SELECT SUM(points) FROM journal WHERE at < ?{base}",
                [period.end_iso, *base_values],
            ).fetchone()[0]
        )
    return row, outstanding


def tiers(ledger: LedgerStore, period: Period, scope: Scope) -> dict:
    """Members per tier now, and those who reached their tier during the period."""
    base, values = scope.member_base(period.end_iso)
    rows = ledger.db.execute(
        "SELECT tier, COUNT(*), SUM(CASE WHEN tier_since >= ? AND tier_since < ? THEN 1"
        f" ELSE 0 END) FROM members WHERE member_id IN ({base}) GROUP BY tier ORDER BY tier",
        [period.start_iso, period.end_iso, *values],
    ).fetchall()
    return {
        "distribution": {r[0]: _int(r[1]) for r in rows},
        "moved_in": {r[0]: _int(r[2]) for r in rows if _int(r[2])},
    }


def rewards(ledger: LedgerStore, period: Period, scope: Scope) -> dict:
    """Redemptions per reward in the period, most redeemed first."""
    if scope.whole:
        rows = journal_days.redemptions(ledger, period)
    else:
        base, values = scope.journal_members(period.end_iso)
        rows = ledger.db.execute(
            "SELECT reason, COUNT(*), SUM(-points) FROM journal WHERE kind = 'redeem' AND at >= ?"
            f" AND at < ?{base} GROUP BY reason ORDER BY COUNT(*) DESC, reason",
            [period.start_iso, period.end_iso, *values],
        ).fetchall()
    return {r[0]: {"redemptions": _int(r[1]), "points": _int(r[2])} for r in rows}


def figures(
    ledger: LedgerStore, period: Period, scope: Scope, s: Settings, outstanding: int | None = None
) -> dict:
    """Every KPI of one period (see docs/reports.md), as plain JSON values."""
    from ledger.kpi_series import promotions

    return {
        "members": members(ledger, period, scope, s),
        "baskets": baskets(ledger, period, scope, s),
        "points": points(ledger, period, scope, s, outstanding),
        "tiers": tiers(ledger, period, scope),
        "rewards": rewards(ledger, period, scope),
        "promotions": promotions(ledger, period, scope, s),
    }


def compare(ledger: LedgerStore, period: Period, scope: Scope, s: Settings) -> dict:
    """The period's figures beside the previous period's, with the period and scope named."""
    previous = period.previous()
    current = figures(ledger, period, scope, s)
    before = None
    if scope.whole:  # the whole journal before the period: what is outstanding now less its net
        before = current["points"]["outstanding"] - current["points"]["net"]
    return {
        "period": {
            "from": period.start.isoformat(),
            "to": _last(period),
            "previous_from": previous.start.isoformat(),
            "previous_to": _last(previous),
        },
        "scope": {"store": scope.store, "lane": scope.lane, "kiosk": scope.kiosk},
        "currency": s.currency,
        "current": current,
        "previous": figures(ledger, previous, scope, s, before),
    }
