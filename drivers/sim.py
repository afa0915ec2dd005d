"""Simulated twins of the card reader and the QR scanner, driven by the demo and tests.

They behave like the real drivers at the interface: a card held on the reader
is one tap, lifting it is a removal event, a scan is one token.
"""

from __future__ import annotations

import threading

from drivers.base import (
    CardDetected,
    CardRemoved,
    Emit,
    ReaderHealth,
    ReadFailed,
    Token,
    TokenKind,
    TokenRead,
)


class SimReader:
    """A card reader you hand cards to: ``present(value)``, ``remove()``, ``unplug()``."""

    def __init__(self, name: str = "sim-nfc") -> None:
        self.name = name
        self._emit: Emit | None = None
        self._present: str | None = None
        self._lock = threading.Lock()

    def start(self, emit: Emit) -> None:
        self._emit = emit
        emit(ReaderHealth(self.name, True, "simulated"))

    def stop(self) -> None:
        self._emit = None

    def present(self, value: str, kind: TokenKind = "uid", verified: bool = False) -> None:
        """Put a card on the reader; holding the same card again is not a new tap."""
        with self._lock:
            if self._emit is None or self._present == value:
                return
            self._present = value
            self._emit(CardDetected(self.name))
            self._emit(TokenRead(Token(kind, value, self.name, verified=verified)))

    def remove(self) -> None:
        with self._lock:
            if self._emit is None or self._present is None:
                return
            self._present = None
            self._emit(CardRemoved(self.name))

    def tap(self, value: str, kind: TokenKind = "uid", verified: bool = False) -> None:
        self.present(value, kind, verified)
        self.remove()

    def pull_mid_read(self) -> None:
        """A card snatched away before it could be read."""
        if self._emit:
            self._emit(CardDetected(self.name))
            self._emit(ReadFailed(self.name, "card removed too soon, try again"))

    def unplug(self) -> None:
        if self._emit:
            self._emit(ReaderHealth(self.name, False, "reader unplugged"))

    def plug(self) -> None:
        if self._emit:
            self._emit(ReaderHealth(self.name, True, "reader back"))


class SimQr:
    """A QR scanner you show codes to: ``scan(text)``.

    With a ``gate`` (drivers.qr_token.QrGate) the text is verified as a real
    scanner's is (a member token or a refusal); without one it passes raw.
    """

    def __init__(self, name: str = "sim-qr", gate=None) -> None:
        self.name = name
        self.gate = gate
        self._emit: Emit | None = None

    def start(self, emit: Emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self._emit = None

    def scan(self, text: str) -> None:
        if not self._emit:
            return
        event = TokenRead(Token("qr", text, self.name)) if self.gate is None else self.gate.check(text)
        if event is not None:
            self._emit(event)
