"""The journal's figures for the whole ledger read from its per-day sums (``journal_days``,
kept by migration 0026's trigger in the journal's own transaction), for ledger.kpis and
ledger.kpi_series: the same sums as over the entries, from a few rows a day.

A period is whole UTC days, so ``at >= start_iso`` is ``day >= start`` (``at`` begins with
its day, docs/reports.md). A store's, lane's or kiosk's figures still read the entries: their
members are a join the day sums cannot answer.
"""

from __future__ import annotations

from ledger.report_scope import Period
from ledger.store import LedgerStore

ISSUED = "SUM(CASE WHEN positive = 1 AND kind IN ('earn', 'bonus', 'adjust') THEN points END)"
REDEEMED = "SUM(CASE WHEN kind = 'redeem' THEN -points END)"


def _days(period: Period) -> list[str]:
    return [period.start.isoformat(), period.end.isoformat()]


def sums(ledger: LedgerStore, period: Period) -> tuple:
    """(issued, redeemed, expired, refunded, net) over the period, as kpis.points reads them."""
    return ledger.db.execute(
        f"SELECT {ISSUED}, {REDEEMED}, SUM(CASE WHEN kind = 'expire' THEN -points END),"
        " SUM(CASE WHEN kind = 'refund' THEN -points END), SUM(points)"
        " FROM journal_days WHERE day >= ? AND day < ?", _days(period)).fetchone()


def outstanding(ledger: LedgerStore, period: Period):
    """Every point written before the period's end, less those taken."""
    return ledger.db.execute("SELECT SUM(points) FROM journal_days WHERE day < ?",
                             [period.end.isoformat()]).fetchone()[0]


def redemptions(ledger: LedgerStore, period: Period) -> list[tuple]:
    """(reward, redemptions, points) in the period, most redeemed first."""
    return ledger.db.execute(
        "SELECT reason, SUM(entries), SUM(-points) FROM journal_days WHERE kind = 'redeem'"
        " AND day >= ? AND day < ? GROUP BY reason ORDER BY SUM(entries) DESC, reason",
        _days(period)).fetchall()


def trend(ledger: LedgerStore, period: Period, width: int) -> list[tuple]:
    """(bucket, issued, redeemed) per day (``width`` 10) or month (7)."""
    return ledger.db.execute(
        f"SELECT substr(day, 1, {width}), {ISSUED}, {REDEEMED} FROM journal_days"
        " WHERE day >= ? AND day < ? GROUP BY 1", _days(period)).fetchall()
