"""nfcpy card reader: PN532 (UART, HSU mode), PN533, ACR122U (USB), and nfcpy's ``udp:`` simulator.

One thread polls every ``poll_ms`` (nfcpy's own rdwr loop waits 0.5 s between
polls; we call ``sense`` ourselves to be quicker). A card held is checked with
``is_present`` rather than re-read, so it stays one tap; when it goes a removal
is sent. A device that fails or vanishes is reopened until it comes back.
"""

from __future__ import annotations

import logging
import threading
import time

from drivers.base import CardDetected, CardRemoved, Emit, ReaderHealth, ReadFailed, Token, TokenRead
from drivers.card_token import REMOVED_TOO_SOON, CardRejected, TokenPolicy, card_token
from drivers.tap import TapTracker

log = logging.getLogger(__name__)
DEFAULT_TARGETS = "106A,212F"  # ISO 14443A (Type 2/4, MIFARE) and FeliCa (Type 3)


class NfcpyReader:
    """Reader interface over nfcpy. ``section`` is the config's ``[reader]`` dict."""

    def __init__(self, section: dict) -> None:
        import nfc  # imported here: the core never needs nfcpy
        import nfc.clf

        self._nfc = nfc
        self.path = section.get("path") or "usb"
        self.name = f"nfc:{self.path}"
        self.poll_s = int(section.get("poll_ms", 200)) / 1000
        brtys = (section.get("nfc_targets") or DEFAULT_TARGETS).split(",")
        self.targets = [nfc.clf.RemoteTarget(b.strip()) for b in brtys if b.strip()]
        self.policy = TokenPolicy.from_section(section)
        self.taps = TapTracker(section.get("debounce_ms", 800) / 1000)
        self._emit: Emit | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clf = None
        self._tag = None
        self._health: tuple[bool, str] | None = None

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="nfcpy-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    # --- loop ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                if self._clf is None and not self._open():
                    self._stop.wait(1.0)
                    continue
                try:
                    self._poll()
                except OSError as exc:  # USB unplugged, serial port gone
                    self._lost(f"reader {self.path} failed: {exc}")
                except self._nfc.clf.UnsupportedTargetError as exc:
                    self._set_health(False, f"reader.nfc_targets not supported here: {exc}")
                    self._stop.wait(5.0)
                except Exception:  # noqa: BLE001 - one bad card must not kill the reader thread
                    log.exception("nfcpy reader loop error")
                self._stop.wait(max(0.0, self.poll_s - (time.monotonic() - started)))
        finally:
            self._close()

    def _open(self) -> bool:
        try:
            self._clf = self._nfc.ContactlessFrontend(self.path)
        except (OSError, ValueError) as exc:
            self._set_health(False, f"cannot open {self.path}: {exc}")
            return False
        self._set_health(True, str(self._clf.device or self.path))
        return True

    def _close(self) -> None:
        if self._clf is not None:
            try:
                self._clf.close()
            except Exception:  # noqa: BLE001 - the device may already be gone
                pass
            self._clf = None

    def _lost(self, detail: str) -> None:
        self._set_health(False, detail)
        self._tag = None
        self._card_gone()
        self._close()

    def _poll(self) -> None:
        if self._tag is not None:
            if self._tag.is_present:
                return
            self._tag = None
        target = self._clf.sense(*self.targets, iterations=1)
        try:
            tag = self._nfc.tag.activate(self._clf, target) if target is not None else None
        except self._nfc.clf.CommunicationError:  # gone while being activated: not a tap yet
            tag = None
        if tag is None:
            self._card_gone()
            return
        uid = bytes(tag.identifier)
        now = time.monotonic()
        if self.taps.current not in (None, uid):
            self._card_gone()
        self._tag = tag
        if self.taps.present(uid, now):
            self._send(CardDetected(self.name, now))
            self._read(tag, uid)

    # --- cards -----------------------------------------------------------------------

    def _ndef_octets(self, tag) -> bytes | None:
        """The NDEF bytes, None for a card without; raises ConnectionError if the card left.

        nfcpy turns a failed read into "no NDEF", so presence is checked to tell a
        card without NDEF from one pulled away mid-read.
        """
        for _ in range(2):
            ndef = tag.ndef
            if ndef is not None:
                return bytes(ndef.octets)
            if not tag.is_present:
                raise ConnectionError("card removed mid-read")
        return None

    def _read(self, tag, uid: bytes) -> None:
        try:
            read = card_token(uid, self._ndef_octets(tag), self.policy)
        except (ConnectionError, self._nfc.clf.CommunicationError) as exc:
            log.info("card removed mid-read: %s", exc)
            self.taps.failed()
            self._tag = None
            self._send(ReadFailed(self.name, REMOVED_TOO_SOON))
            self._card_gone()
        except CardRejected as exc:
            log.warning("card refused: %s", exc)
            self.taps.failed()
            self._send(ReadFailed(self.name, exc.shown))
        else:
            self._send(TokenRead(Token(read.kind, read.value, self.name, verified=read.verified,
                                          proof=read.proof)))

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
