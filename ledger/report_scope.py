"""What a report covers: a period of whole UTC days and a scope (store, lane, kiosk), as the SQL
conditions the KPI queries share (ledger.kpis). Text comparisons on ISO timestamps: every ``at``
the ledger writes is ``YYYY-MM-DDTHH:MM:SS.mmm+00:00``, so they sort as times do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def day_iso(day: dt.date) -> str:
    """Midnight UTC of ``day`` in the ledger's timestamp format."""
    return f"{day.isoformat()}T00:00:00.000+00:00"


@dataclass(frozen=True)
class Period:
    """Whole days ``start <= day < end`` (UTC)."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_iso(self) -> str:
        return day_iso(self.start)

    @property
    def end_iso(self) -> str:
        return day_iso(self.end)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start)

    def before_end(self, days: int) -> str:
        """``days`` before the period's end, as a timestamp."""
        return day_iso(self.end - dt.timedelta(days=days))


@dataclass(frozen=True)
class Scope:
    """Which baskets count: one store, lane or kiosk (None: any). A lane is a store's."""

    store: str | None = None
    lane: str | None = None
    kiosk: str | None = None

    @property
    def whole(self) -> bool:
        return self.store is None and self.lane is None and self.kiosk is None

    def baskets(self, alias: str = "") -> tuple[str, list]:
        """Conditions on ``baskets`` (``alias.`` before each column), ANDed; "1=1" for all."""
        prefix = f"{alias}." if alias else ""
        parts, values = [], []
        for column, value in (("store", self.store), ("lane", self.lane), ("kiosk", self.kiosk)):
            if value is not None:
                parts.append(f"{prefix}{column} = ?")
                values.append(value)
        return " AND ".join(parts) or "1=1", values

    def label(self) -> str:
        named = [
            f"{k} {v}"
            for k, v in (("store", self.store), ("lane", self.lane), ("kiosk", self.kiosk))
            if v is not None
        ]
        return ", ".join(named) or "all stores"

    def member_base(self, end_iso: str) -> tuple[str, list]:
        """A subquery of the scope's members at ``end_iso``: every member enrolled by then for
        the whole ledger; for a store, lane or kiosk the members who paid a basket there."""
        if self.whole:
            return "SELECT member_id FROM members WHERE created_at < ?", [end_iso]
        where, values = self.baskets()
        return (
            f"SELECT DISTINCT member_id FROM baskets WHERE member_id IS NOT NULL"
            f" AND at < ? AND {where}",
            [end_iso, *values],
        )

    def journal_members(self, end_iso: str, column: str = "member_id") -> tuple[str, list]:
        """ " AND ``column`` IN (the member base)", for journal entries before ``end_iso``; nothing
        for the whole ledger, whose base holds every member with an entry by then (the journal
        is written after the member), so the whole journal is read without a join."""
        if self.whole:
            return "", []
        base, values = self.member_base(end_iso)
        return f" AND {column} IN ({base})", values
