"""PC/SC card reader through pcscd (pyscard): ACR122U, ACR1252U, Identiv, HID Omnikey...

One thread waits on SCardGetStatusChange with a timeout of ``poll_ms``, so a card
is seen as soon as pcscd reports it. When pcscd or the reader goes away the
thread reports it (ReaderHealth ok=False) and keeps trying, so the reader comes
back without a restart.
"""

from __future__ import annotations

import logging
import threading
import time

from drivers.base import CardDetected, CardRemoved, Emit, ReaderHealth, ReadFailed, Token, TokenRead
from drivers.card_apdu import CardDataError, CardIOError, read_ndef, read_uid
from drivers.card_token import REMOVED_TOO_SOON, CardRejected, TokenPolicy, card_token
from drivers.tap import TapTracker

log = logging.getLogger(__name__)


class _PcscDown(Exception):
    """pcscd or the reader is not usable; the detail says which."""


class PcscReader:
    """Reader interface over pyscard. ``section`` is the config's ``[reader]`` dict."""

    def __init__(self, section: dict) -> None:
        from smartcard import scard  # imported here: the core never needs pyscard

        self._sc = scard
        self.want = section.get("path", "")
        self.name = f"pcsc:{self.want or 'first'}"
        self.poll_ms = int(section.get("poll_ms", 200))
        self.policy = TokenPolicy.from_section(section)
        self.taps = TapTracker(section.get("debounce_ms", 800) / 1000)
        self._emit: Emit | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx = None
        self._health: tuple[bool, str] | None = None

    # --- lifecycle ---------------------------------------------------------------

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pcsc-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5 + self.poll_ms / 1000)
        self._release()

    def _run(self) -> None:
        state = self._sc.SCARD_STATE_UNAWARE
        while not self._stop.is_set():
            try:
                reader = self._reader()
                state = self._wait(reader, state)
            except _PcscDown as exc:
                self._set_health(False, str(exc))
                self._release()
                state = self._sc.SCARD_STATE_UNAWARE
                self._card_gone()
                self._stop.wait(max(self.poll_ms, 250) / 1000)
            except Exception:  # noqa: BLE001 - one bad read must not kill the reader thread
                log.exception("PC/SC reader loop error")
                self._stop.wait(self.poll_ms / 1000)

    # --- pcscd plumbing ----------------------------------------------------------

    def _check(self, hr: int, what: str) -> None:
        if hr != self._sc.SCARD_S_SUCCESS:
            raise _PcscDown(f"{what}: {self._sc.SCardGetErrorMessage(hr).strip()}")

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
            raise _PcscDown(f"no PC/SC reader matching {self.want!r}" if self.want
                            else "no PC/SC reader connected")
        self.name = f"pcsc:{match[0]}"
        self._set_health(True, match[0])
        return match[0]

    def _release(self) -> None:
        if self._ctx is not None:
            try:
                self._sc.SCardReleaseContext(self._ctx)
            except Exception:  # noqa: BLE001 - pcscd may already be gone
                pass
            self._ctx = None

    def _wait(self, reader: str, state: int) -> int:
        sc = self._sc
        known = state & ~sc.SCARD_STATE_CHANGED
        hr, states = sc.SCardGetStatusChange(self._ctx, self.poll_ms, [(reader, known)])
        if hr == sc.SCARD_E_TIMEOUT:
            return state
        self._check(hr, f"reader {reader} failed")
        event = states[0][1]
        if event & (sc.SCARD_STATE_UNKNOWN | sc.SCARD_STATE_UNAVAILABLE):
            raise _PcscDown(f"reader {reader} unavailable")
        if event & sc.SCARD_STATE_PRESENT and not event & sc.SCARD_STATE_MUTE:
            self._card_present(reader)
        elif event & sc.SCARD_STATE_EMPTY:
            self._card_gone()
        return event

    # --- cards -------------------------------------------------------------------

    def _send(self, event: object) -> None:
        if self._emit is not None:
            self._emit(event)

    def _set_health(self, ok: bool, detail: str) -> None:
        if self._health != (ok, detail):
            self._health = (ok, detail)
            self._send(ReaderHealth(self.name, ok, detail))

    def _card_gone(self) -> None:
        if self.taps.absent(time.monotonic()):
            self._send(CardRemoved(self.name))

    def _connect(self, reader: str):
        sc = self._sc
        hr, card, proto = sc.SCardConnect(self._ctx, reader, sc.SCARD_SHARE_SHARED,
                                          sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
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
            self._read(transmit)
        finally:
            self._sc.SCardDisconnect(card, self._sc.SCARD_LEAVE_CARD)

    def _read(self, transmit) -> None:
        try:
            uid = read_uid(transmit)
        except (CardIOError, CardDataError) as exc:
            log.info("no UID: %s", exc)
            return
        now = time.monotonic()
        if self.taps.current not in (None, uid):
            self._card_gone()
        if not self.taps.present(uid, now):
            return
        self._send(CardDetected(self.name, now))
        try:
            read = card_token(uid, read_ndef(transmit), self.policy)
        except CardIOError as exc:
            log.info("card removed mid-read: %s", exc)
            self.taps.failed()
            self._send(ReadFailed(self.name, REMOVED_TOO_SOON))
        except CardDataError as exc:
            log.warning("unreadable card: %s", exc)
            self.taps.failed()
            self._send(ReadFailed(self.name, "card could not be read, try again [card_data]"))
        except CardRejected as exc:
            log.warning("card refused: %s", exc)
            self.taps.failed()
            self._send(ReadFailed(self.name, exc.shown))
        else:
            self._send(TokenRead(Token(read.kind, read.value, self.name, verified=read.verified,
                                          proof=read.proof)))
