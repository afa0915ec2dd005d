"""PC/SC card reader through pcscd (pyscard): ACR122U, ACR1252U, Identiv, HID Omnikey...

The thread, taps, health and reconnect are drivers.card_reader's; this module
only talks to pcscd. Each poll waits on SCardGetStatusChange with a timeout of
``poll_ms``, so a card is seen as soon as pcscd reports it; pcscd or the reader
going away is a ``ReaderDown``, and the next polls look for it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from drivers.card_apdu import CardDataError, CardIOError, read_ndef, read_uid
from drivers.card_reader import CardGone, CardReader, CardUnreadable, ReaderDown

log = logging.getLogger(__name__)


class PcscReader(CardReader):
    """Reader interface over pyscard. ``section`` is the config's ``[reader]`` dict."""

    waits_in_poll = True  # SCardGetStatusChange waits up to poll_ms for a change

    def __init__(self, section: Mapping) -> None:
        from smartcard import scard  # imported here: the core never needs pyscard

        self._sc = scard
        super().__init__(section, "")
        self.want = self.section["path"]
        self.name = f"pcsc:{self.want or 'first'}"
        self.retry_s = max(self.poll_s, 0.25)
        self._ctx = None
        self._state = scard.SCARD_STATE_UNAWARE

    def poll(self) -> None:
        reader = self._reader()
        self._state = self._wait(reader, self._state)

    def close(self) -> None:
        self._state = self._sc.SCARD_STATE_UNAWARE
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            self._sc.SCardReleaseContext(ctx)

    # --- pcscd plumbing ----------------------------------------------------------
    def _check(self, hr: int, what: str) -> None:
        if hr != self._sc.SCARD_S_SUCCESS:
            raise ReaderDown(f"{what}: {self._sc.SCardGetErrorMessage(hr).strip()}")

    def _reader(self) -> str:
        sc = self._sc
        if self._ctx is None:
            hr, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
            self._check(hr, "pcscd not reachable")
            self._ctx = ctx
        hr, names = sc.SCardListReaders(self._ctx, [])
        if hr == sc.SCARD_E_NO_READERS_AVAILABLE:
            names = []
        else:
            self._check(hr, "cannot list readers")
        match = [n for n in names if self.want in n]
        if not match:
            raise ReaderDown(
                f"no PC/SC reader matching {self.want!r}"
                if self.want
                else "no PC/SC reader connected"
            )
        self.name = f"pcsc:{match[0]}"
        self.ready(match[0])
        return match[0]

    def _wait(self, reader: str, state: int) -> int:
        sc = self._sc
        known = state & ~sc.SCARD_STATE_CHANGED
        hr, states = sc.SCardGetStatusChange(self._ctx, self.section["poll_ms"], [(reader, known)])
        if hr == sc.SCARD_E_TIMEOUT:
            return state
        self._check(hr, f"reader {reader} failed")
        event = states[0][1]
        if event & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
            raise ReaderDown(f"reader {reader} unavailable")
        if event & sc.SCARD_STATE_PRESENT and not event & sc.SCARD_STATE_MUTE:
            self._card_present(reader)
        elif event & sc.SCARD_STATE_EMPTY:
            self.card_gone()
        return event

    # --- cards -------------------------------------------------------------------
    def _connect(self, reader: str):
        sc = self._sc
        hr, card, proto = sc.SCardConnect(
            self._ctx, reader, sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1
        )
        if hr != sc.SCARD_S_SUCCESS:
            raise CardIOError(sc.SCardGetErrorMessage(hr).strip())

        def transmit(apdu: bytes) -> bytes:
            hr, resp = sc.SCardTransmit(card, proto, list(apdu))
            if hr != sc.SCARD_S_SUCCESS:
                raise CardIOError(sc.SCardGetErrorMessage(hr).strip())
            if len(resp) < 2:  # no status word: the card left during the exchange
                raise CardIOError("card stopped answering")
            return bytes(resp)

        return card, transmit

    def _card_present(self, reader: str) -> None:
        try:
            card, transmit = self._connect(reader)
        except CardIOError as exc:
            log.info("card vanished before connect: %s", exc)
            return
        try:
            uid = read_uid(transmit)
        except (CardIOError, CardDataError) as exc:
            log.info("no UID: %s", exc)
        else:
            self.card_seen(uid, lambda: _ndef(transmit))
        finally:
            self._sc.SCardDisconnect(card, self._sc.SCARD_LEAVE_CARD)


def _ndef(transmit) -> bytes | None:
    """The card's NDEF message, in the base's terms for a card that left or gave bad data."""
    try:
        return read_ndef(transmit)
    except CardIOError as exc:
        raise CardGone(str(exc)) from exc
    except CardDataError as exc:
        raise CardUnreadable(str(exc)) from exc
