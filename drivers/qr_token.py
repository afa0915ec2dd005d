"""Turns scanned QR text into the event the session gets: a verified member token or a refusal.

Every QR input (camera, HID, serial) hands its raw text to one ``QrGate``. The
gate debounces (a camera sees one code in many frames; one showing is one
scan), verifies the code (codes.member_qr) and answers with ``TokenRead`` for
the member id, marked verified, or ``ReadFailed`` with a short reason for the
screen; the full reason goes to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from codes import member_qr as qrcodes
from drivers.base import ReadFailed, Token, TokenRead
from drivers.config_schema import QR, with_defaults
from drivers.system_clock import clock_synced, wall_clock

log = logging.getLogger(__name__)

REPEAT_S = 2.0  # the same text again within this long of its last sighting is the same scan
RECENT_MAX = 16  # texts remembered for that; a frame rarely holds more than one or two codes


def shown(text: str | bytes, limit: int = 40) -> str:
    """A log-safe rendering of untrusted text: escaped and cut."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


class QrGate:
    def __init__(self, verifier: qrcodes.Verifier, reader: str,
                 clock: Callable[[], float | None] = wall_clock,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.verifier = verifier
        self.reader = reader
        self.clock = clock
        self.monotonic = monotonic
        self._recent: dict[str | bytes, float] = {}  # text -> last sighting, monotonic
        if verifier.demo:
            log.warning("%s: qr.keys holds the public DEMO key: anyone can make codes", reader)

    @classmethod
    def from_config(cls, section: Mapping, reader: str, **kw) -> QrGate:
        """A gate for the ``[qr]`` section (missing keys: the schema's); ValueError names a bad key."""
        s = with_defaults(section, QR)
        verifier = qrcodes.Verifier(s["keys"], s["program"], s["period"], s["grace"], s["skew"],
                                    s["url_prefix"], s["cards"])
        return cls(verifier, reader, **kw)

    def check(self, data: str | bytes) -> TokenRead | ReadFailed | None:
        """The event for one sighting of ``data``; None while it repeats a recent sighting."""
        mono = self.monotonic()
        self._recent = {t: seen for t, seen in self._recent.items() if mono - seen < REPEAT_S}
        repeat = data in self._recent
        if repeat or len(self._recent) < RECENT_MAX:
            self._recent[data] = mono  # still in view: keeps it quiet until it is gone
        if repeat:
            return None
        try:
            code = self.verifier.verify(data, self.clock())
        except qrcodes.QrRefused as exc:
            detail = exc.detail
            if exc.reason in ("future", "expired", "clock") and not clock_synced():
                detail += " (kiosk clock not synchronised)"
            log.warning("%s: QR code refused (%s): %s; text %s", self.reader, exc.reason, detail,
                        shown(data))
            return ReadFailed(self.reader, exc.screen)
        log.info("%s: QR code for member %s (%s)", self.reader, code.member,
                 "app" if code.kind == "m" else "card")
        # The code itself is the proof: the ledger checks its signature again.
        return TokenRead(Token("qr", code.member, self.reader, verified=True,
                               proof={"code": code.text()}))
