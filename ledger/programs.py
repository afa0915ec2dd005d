"""The program versions the ledger knows, and which one prices a given op.

A program change never reprices an op already queued on a kiosk: the op names the version it
was priced with, and the ledger honours that version for the active program's ``grace_hours``
after the next version was loaded. Past the grace period, or for a version the ledger never
had, the active program prices it. A ledger with no program loaded runs ``DefaultProgram``.
"""

from __future__ import annotations

import datetime as dt
import logging

from ledger.store import LedgerStore
from program.engine import DefaultProgram, Program
from program.files import ProgramError, program_from_body
from program.rules import parse_time

log = logging.getLogger(__name__)


class ProgramBook:
    def __init__(self, rows: list[tuple[int, dict, str]] = ()) -> None:
        self.versions: dict[int, Program] = {}
        self.bodies: dict[int, dict] = {}
        self.superseded: dict[int, dt.datetime] = {}  # version -> when the next one came
        previous = None
        self.latest_stored = rows[-1][0] if rows else None  # usable or not: no reload loop
        for version, body, loaded_at in rows:
            try:
                self.versions[version] = program_from_body(body)
            except ProgramError as exc:  # stored before a stricter check; say so, keep going
                log.error("stored program version %s cannot be used: %s", version, exc)
                continue
            self.bodies[version] = body
            if previous is not None:
                self.superseded[previous] = parse_time(loaded_at)
            previous = version
        self.active: Program = self.versions[previous] if previous else DefaultProgram()

    @classmethod
    def load(cls, store: LedgerStore) -> ProgramBook:
        return cls(store.programs())

    @property
    def version(self) -> int | None:
        """The active loaded version (None while DefaultProgram runs)."""
        return max(self.versions) if self.versions else None

    def for_op(self, op: dict, now: dt.datetime | None = None) -> Program:
        wanted = op.get("program_version")
        program = self.versions.get(wanted)
        if program is None or program is self.active:
            return self.active
        now = now or dt.datetime.now(dt.UTC)
        until = self.superseded[wanted] + dt.timedelta(hours=self.active.grace_hours)
        return program if now <= until else self.active
