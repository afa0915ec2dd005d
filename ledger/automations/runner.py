"""`ledger automations run`: send what ``plan`` finds, each send claimed in the ledger before
it goes out (sends.py explains why email is at-most-once), one SMTP session for the run.

Two runs at once (two timers, two hosts on one PostgreSQL database) cannot send twice: the
claim is an insert under the unique (automation, member, occasion) key, made with the member's
row locked, so the second run's claim finds the first's and skips it. If the SMTP server cannot
be reached, the rest of the run's email waits for the next run (nothing is claimed for it).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.automations import plan as planning
from ledger.automations import sends, templates
from ledger.automations.mailer import Mailer, SmtpSettings, message
from ledger.automations.plan import Planned
from ledger.store import LedgerStore
from program.automations import Automation
from program.engine import Program

log = logging.getLogger(__name__)


class NoMailer(RuntimeError):
    """An enabled automation sends email and no SMTP server is configured."""


@dataclass
class Outcome:
    counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, automation: str, what: str) -> None:
        self.counts.setdefault(automation, Counter())[what] += 1


@dataclass
class Run:
    store: LedgerStore
    program: Program
    now: dt.datetime
    smtp: SmtpSettings | None = None
    consent_link: Callable[[str], str | None] | None = None  # member id -> their consent page
    outcome: Outcome = field(default_factory=Outcome)
    _mailer: Mailer | None = None
    _smtp_down: bool = False

    def automation(self, settings: Automation) -> None:
        for item in planning.plan(self.store, self.program, settings, self.now):
            if not item.channels:
                self.outcome.add(settings.name, item.reason)
            elif "email" in item.channels and self._smtp_down:
                self.outcome.add(settings.name, "waiting for the SMTP server")
            else:
                self.outcome.add(settings.name, self._send(settings, item))

    def _send(self, settings: Automation, item: Planned) -> str:
        occasion, email = item.occasion, "email" in item.channels
        with self.store.transaction() as db:
            self.store.lock_member(occasion.member_id)
            if planning.capped(db, settings, occasion.member_id, self.now):
                return "capped"
            send_id = sends.claim(db, occasion, item.channels, item.contact.language,
                                  self.now.isoformat(timespec="milliseconds"))
            if send_id is not None and not email:
                sends.mark_sent(db, send_id, occasion, item.channels)
        if send_id is None:
            return "sent by another run"
        if email:
            error = self._email(item)
            with self.store.transaction() as db:
                if error:
                    sends.mark_failed(db, send_id, error)
                else:
                    sends.mark_sent(db, send_id, occasion, item.channels)
            if error:
                log.warning("automation %s: email to member %s failed: %s", settings.name,
                            occasion.member_id, error)
                return "failed"
        log.info("automation %s: member %s, %s, sent by %s", settings.name, occasion.member_id,
                 occasion.key, ", ".join(item.channels))
        return "sent"

    def _email(self, item: Planned) -> str | None:
        """Send the item's email; None, or what went wrong (no address: smtplib's class and
        code only)."""
        values = {**item.occasion.figures, "name": item.contact.name, "shop": self.program.name,
                  "balance": self.store.balance(item.occasion.member_id)}
        link = self.consent_link(item.occasion.member_id) if self.consent_link else None
        mail = templates.render(item.occasion.automation, item.contact.language, values, link)
        msg = message(self.smtp, item.contact.name, item.contact.email, mail,
                      item.occasion.automation, link)
        try:
            if self._mailer is None:
                self._mailer = Mailer(self.smtp).__enter__()
        except OSError as exc:  # cannot reach or log in: the rest waits for the next run
            self._drop(True)
            return _describe(exc)
        try:
            self._mailer.send(msg)
            return None
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            self._drop(isinstance(exc, smtplib.SMTPServerDisconnected)
                       or not isinstance(exc, smtplib.SMTPException))
            return _describe(exc)

    def _drop(self, server_down: bool) -> None:
        """After a failure, close the session; when the server cannot be reached, the rest of
        the run's email waits for the next run."""
        self._smtp_down = self._smtp_down or server_down
        self.close()

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.__exit__(None, None, None)
            self._mailer = None


def _describe(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def needs_mail(settings: dict[str, Automation]) -> list[str]:
    return [a.name for a in settings.values() if a.enabled and "email" in a.channels]


def run(store: LedgerStore, program: Program, settings: dict[str, Automation], now: dt.datetime,
        smtp: SmtpSettings | None = None, only: str | None = None,
        consent_link: Callable[[str], str | None] | None = None) -> Outcome:
    """Run every enabled automation (or ``only`` that one) at ``now``; what happened, counted."""
    chosen = {n: a for n, a in settings.items() if a.enabled and only in (None, n)}
    if smtp is None and (mailing := needs_mail(chosen)):
        raise NoMailer(f"{', '.join(mailing)} send email and no SMTP server is configured:"
                       " give --smtp-config or LEDGER_SMTP_HOST (docs/automations.md), or set"
                       " their channels to [\"webhook\"]")
    job = Run(store, program, now, smtp, consent_link)
    try:
        for automation in chosen.values():
            job.automation(automation)
    finally:
        job.close()
    return job.outcome
