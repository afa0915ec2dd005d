"""The vocabulary between drivers and the kiosk core.

Drivers run in their own threads (or library callbacks) and hand events to the
core through an ``emit`` callable, which puts them on the session's one queue.
Nothing here imports a hardware library.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

TokenKind = Literal["uid", "ndef", "sun", "qr"]
TOKEN_KINDS: tuple[str, ...] = ("uid", "ndef", "sun", "qr")


@dataclass(frozen=True)
class Token:
    """What a reader saw: one tap of a card or one scanned code.

    ``value`` is the identifier the ledger resolves (UID hex, card number from
    NDEF, the verified SUN UID, the QR member code). ``verified`` is true only
    when the token carried proof (a SUN MAC, a signed NDEF record or QR code).
    ``proof`` is that proof as the ledger checks it again (it believes no kiosk's
    ``verified``): the SUN fields (codes.sun.sun_proof), ``{"sig": ...}`` of a
    signed card number, ``{"code": ...}`` of a QR code. Not part of equality: two
    reads of one card are one card.
    """

    kind: TokenKind
    value: str
    reader: str
    at: float = field(default_factory=time.monotonic)
    verified: bool = False
    proof: dict[str, str] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TokenRead:
    token: Token


@dataclass(frozen=True)
class CardRemoved:
    reader: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class CardDetected:
    """A card entered the field; sent before it is read so the display can react."""

    reader: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ReadFailed:
    """A read started but gave no usable token (card pulled away, bad data)."""

    reader: str
    reason: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ReaderHealth:
    """A reader appeared, vanished or failed; ``ok`` false means 'not usable now'."""

    reader: str
    ok: bool
    detail: str = ""


ButtonName = Literal["next", "select", "cancel"]
BUTTON_NAMES: tuple[str, ...] = ("next", "select", "cancel")


@dataclass(frozen=True)
class ButtonPressed:
    button: ButtonName
    held: bool = False  # True when held past the long-press time (technician screen)


Emit = Callable[[object], None]


class Reader(Protocol):
    """A card reader or QR input. ``start`` must not block; ``stop`` joins."""

    name: str

    def start(self, emit: Emit) -> None: ...

    def stop(self) -> None: ...


class Buttons(Protocol):
    def start(self, emit: Emit) -> None: ...

    def stop(self) -> None: ...


FeedbackPattern = Literal["ok", "error", "reward", "reading"]


class Feedback(Protocol):
    """LEDs and buzzer. ``signal`` returns at once; patterns play in the background."""

    def signal(self, pattern: FeedbackPattern) -> None: ...

    def close(self) -> None: ...
