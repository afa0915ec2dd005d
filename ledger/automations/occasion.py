"""What every automation works with: the run's context and the occasions it finds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ledger.store import LedgerStore
from mqtt.timestamps import iso
from program.automations import Automation
from program.engine import Program

LIVE = (
    "NOT EXISTS (SELECT 1 FROM member_profiles p WHERE p.member_id = m.member_id"
    " AND p.forgotten_at IS NOT NULL)"
)  # forgotten members are never messaged


@dataclass(frozen=True)
class Context:
    store: LedgerStore
    program: Program
    settings: Automation
    now: dt.datetime  # aware, UTC

    @property
    def today(self) -> dt.date:
        """The shop's date now (the program's time zone): birthdays and expiry are dates."""
        return self.now.astimezone(ZoneInfo(self.program.timezone)).date()

    def ago(self, days: int) -> str:
        """``days`` before now as the ledger's ISO text, to compare with stored times."""
        return iso((self.now - dt.timedelta(days=days)).timestamp())


@dataclass(frozen=True)
class Occasion:
    """One message an automation would send: to whom, the occasion key (one send per key),
    and the figures its template shows (points, reward name, dates; never contact data)."""

    automation: str
    member_id: str
    key: str
    figures: dict = field(default_factory=dict)
