"""What the nfcpy and PC/SC drivers share: one polling thread, health, taps, reconnect.

A backend implements ``poll()``: look at the reader once and report what is in
the field by calling ``card_seen(uid, read)`` (a card; ``read`` fetches its
NDEF bytes) or ``card_gone()`` (an empty field), or nothing when nothing
changed. It calls ``ready(detail)`` once the reader answers and raises
``ReaderDown`` when the reader is not usable (unplugged, pcscd gone). This class
reports health once per change, turns presence into taps (drivers.tap), reads
and judges the card (drivers.card_token), closes the backend when the reader
goes and tries again until it is back. ``close()`` releases the library's
handles; a backend without any need not write it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from drivers.base import CardDetected, CardRemoved, ReaderHealth, ReadFailed, Token, TokenRead
from drivers.card_token import REMOVED_TOO_SOON, CardRejected, TokenPolicy, card_token
from drivers.config_schema import READER, with_defaults
from drivers.reader_thread import ReaderThread
from drivers.tap import TapTracker

log = logging.getLogger(__name__)

UNREADABLE = "card could not be read, try again [card_data]"
STOP_JOIN_S = 10.0  # one nfcpy poll of the udp: device can take a second per technology


class ReaderDown(Exception):
    """The reader cannot be used now; the message names it and says what is wrong."""


class CardGone(Exception):
    """The card left the field while it was being read."""


class CardUnreadable(Exception):
    """The card answered, but with data that cannot be a card of ours."""


class CardReader(ReaderThread):
    """The Reader interface (drivers.base) for a reader polled on one thread.

    ``section`` is the config's ``[reader]`` dict; keys it lacks take the schema's
    defaults. ``retry_s`` is the wait before a reader that went down is tried
    again. A backend whose ``poll`` itself waits for a change sets
    ``waits_in_poll``; otherwise the thread polls every ``poll_ms``.
    """

    retry_s = 1.0
    waits_in_poll = False
    stop_join_s = STOP_JOIN_S

    def __init__(self, section: Mapping, name: str) -> None:
        super().__init__()
        self.section = with_defaults(section, READER)
        self.name = name
        self.poll_s = self.section["poll_ms"] / 1000
        self.policy = TokenPolicy.from_section(section)  # as given: see its counter file
        self.taps = TapTracker(self.section["debounce_ms"] / 1000)
        self._health: tuple[bool, str] | None = None

    # The Reader interface (start, stop) is ReaderThread's.

    # -- for backends -------------------------------------------------------------------
    def poll(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the library's handles; called from the reader thread when it goes or ends."""

    def ready(self, detail: str) -> None:
        """The reader answers; ``detail`` names the device for the technician."""
        self.set_health(True, detail)

    def set_health(self, ok: bool, detail: str) -> None:
        if self._health != (ok, detail):  # once per change: a retry loop must not flood the queue
            self._health = (ok, detail)
            (log.info if ok else log.warning)("%s: %s", self.name, detail)
            self.send(ReaderHealth(self.name, ok, detail))

    def pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def card_seen(self, uid: bytes, read: Callable[[], bytes | None]) -> bool:
        """A card with ``uid`` is in the field: a new tap is announced and read.

        ``read`` returns the NDEF bytes (None: the card has none) and raises
        CardGone or CardUnreadable. Returns False when the card left mid-read.
        """
        now = time.monotonic()
        if self.taps.current not in (None, uid):
            self.card_gone()  # another card took its place without an empty poll between
        if not self.taps.present(uid, now):
            return True  # held, or back within the debounce time: the same tap
        self.send(CardDetected(self.name, now))
        return self._read_tap(uid, read)

    def card_gone(self) -> None:
        if self.taps.absent(time.monotonic()):
            self.send(CardRemoved(self.name))

    def send(self, event: object) -> None:
        if self._emit is not None:
            self._emit(event)

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                due = self._poll_once()
                self._stop.wait(max(0.0, due - (time.monotonic() - started)))
        finally:
            self._close_backend()

    def _poll_once(self) -> float:
        """One poll; returns how long after its start the next one is due."""
        try:
            self.poll()
        except ReaderDown as exc:
            self.set_health(False, str(exc))
            self.card_gone()
            self._close_backend()
            return self.retry_s
        except Exception:  # noqa: BLE001 - one bad card or driver bug must not end the reader
            log.exception("%s: reader loop error", self.name)
            return self.poll_s
        return 0.0 if self.waits_in_poll else self.poll_s

    def _close_backend(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the device may already be gone
            log.debug("%s: close failed", self.name, exc_info=True)

    def _read_tap(self, uid: bytes, read: Callable[[], bytes | None]) -> bool:
        try:
            tok = card_token(uid, read(), self.policy)
        except CardGone as exc:
            log.info("%s: card removed mid-read: %s", self.name, exc)
            self._refused(REMOVED_TOO_SOON)
            self.card_gone()
            return False
        except CardUnreadable as exc:
            log.warning("%s: unreadable card: %s", self.name, exc)
            self._refused(UNREADABLE)
        except CardRejected as exc:
            log.warning("%s: card refused: %s", self.name, exc)
            self._refused(exc.shown)
        else:
            # the proof travels to the ledger, which checks it itself (docs/security.md)
            self.send(TokenRead(Token(tok.kind, tok.value, self.name, verified=tok.verified,
                                      proof=tok.proof)))
        return True

    def _refused(self, reason: str) -> None:
        self.taps.failed()  # held, it is not read again; lifted and put back, it is
        self.send(ReadFailed(self.name, reason))
