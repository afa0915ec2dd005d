"""Drive a simulated kiosk running as its own process (`kiosk run` with simulated drivers).

The daemon listens on a UNIX datagram socket (``[reader] path`` with the sim
driver); each datagram is one command: ``tap VALUE [KIND]``, ``present VALUE
[KIND]``, ``remove``, ``scan TEXT``, ``press BUTTON``. This module owns that
format: the server (:class:`SimControl`) and the client (:func:`send`, used by
``kiosk tap|scan|press|present|remove``) both go through :func:`parse`.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from dataclasses import dataclass

from codes import card_numbers
from codes.member_qr import MAX_TEXT
from drivers.base import BUTTON_NAMES

log = logging.getLogger(__name__)

CARD_KINDS = ("uid", "ndef", "sun")  # a QR code is shown with `scan`, not tapped
CARD_VERBS = ("tap", "present")
VERBS = (*CARD_VERBS, "remove", "scan", "press")
MAX_DATAGRAM = 4096
# A card UID is 4, 7 or 10 bytes (ISO 14443-3 single, double, triple size); a SUN tag's is 7.
_UID_RE = {
    "uid": re.compile(r"(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})"),
    "sun": re.compile(r"[0-9A-Fa-f]{14}"),
}
_CARD_RULE = {
    "uid": "4, 7 or 10 bytes in hex (8, 14 or 20 hex digits), e.g. 04A1B2C3D4E5F6",
    "sun": "a 7-byte UID in hex (14 hex digits)",
    "ndef": f"a card number: {card_numbers.NUMBER_RULE}",
}


class BadCommand(ValueError):
    """A control command that breaks the format; the message says what is allowed."""


@dataclass(frozen=True)
class Command:
    verb: str
    value: str = ""
    kind: str = "uid"

    def text(self) -> str:
        """The datagram text; :func:`parse` of it gives this command back."""
        if self.verb in CARD_VERBS:
            return f"{self.verb} {self.value} {self.kind}"
        return "remove" if self.verb == "remove" else f"{self.verb} {self.value}"


def check_card(value: str, kind: str) -> None:
    if kind not in CARD_KINDS:
        raise BadCommand(f"card kind {kind!r} is not one of {', '.join(CARD_KINDS)}")
    rule = card_numbers.BASE if kind == "ndef" else _UID_RE[kind]
    if not rule.fullmatch(value):
        raise BadCommand(
            f"card {value[:40]!r} is not a valid {kind} card: expected {_CARD_RULE[kind]}"
        )


def check_scan(text: str) -> None:
    if not text or not text.strip():
        raise BadCommand("scan needs the text of a code")
    if len(text) > MAX_TEXT:
        raise BadCommand(f"scan text is {len(text)} characters; a code holds at most {MAX_TEXT}")
    if any(c in "\r\n\x00" for c in text):
        raise BadCommand("scan text must be one line (no newline or NUL)")


def check_button(name: str) -> None:
    if name not in BUTTON_NAMES:
        raise BadCommand(f"button {name!r} is not one of {', '.join(BUTTON_NAMES)}")


def make(verb: str, value: str = "", kind: str = "uid") -> Command:
    """A checked command; raises BadCommand naming what is wrong."""
    if verb in CARD_VERBS:
        check_card(value, kind)
    elif verb == "scan":
        check_scan(value)
    elif verb == "press":
        check_button(value)
    elif verb == "remove":
        if value:
            raise BadCommand("remove takes no argument")
    else:
        raise BadCommand(f"unknown command {verb[:20]!r} (one of {', '.join(VERBS)})")
    return Command(verb, value, kind if verb in CARD_VERBS else "uid")


def parse(data: bytes | str) -> Command:
    """One datagram -> a checked Command; raises BadCommand."""
    if len(data) > MAX_DATAGRAM:
        raise BadCommand(f"command of {len(data)} bytes exceeds {MAX_DATAGRAM}")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise BadCommand("command is not UTF-8") from None
    verb, _, rest = text.strip().partition(" ")
    if verb == "scan":
        return make(verb, rest)  # the code's text as shown, spaces and all
    args = rest.split()
    if verb in CARD_VERBS:
        if not 1 <= len(args) <= 2:
            raise BadCommand(f"{verb} takes VALUE [KIND]")
        return make(verb, args[0], args[1] if len(args) > 1 else "uid")
    if len(args) > 1:
        raise BadCommand(f"{verb} takes at most one argument")
    return make(verb, args[0] if args else "")


class NoSimulatedKiosk(ConnectionError):
    """Nothing listens on the control socket: no simulated kiosk runs with that config."""


def send(path: str, command: Command | str) -> None:
    """Send one command to a running simulated kiosk; raises BadCommand or NoSimulatedKiosk."""
    cmd = parse(command) if isinstance(command, str) else command
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(cmd.text().encode("utf-8"), path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NoSimulatedKiosk(
                f"no simulated kiosk listens on {path} ({exc.strerror}); "
                'start one with `kiosk run` and [reader] driver = "sim"'
            ) from None


class SimControl:
    def __init__(self, path: str, reader, qr, buttons) -> None:
        self.path, self.reader, self.qr, self.buttons = path, reader, qr, buttons
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._thread = threading.Thread(target=self._serve, name="sim-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._sock:
            self._sock.close()
            self._sock = None
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _serve(self) -> None:
        while self._sock is not None:
            try:
                data = self._sock.recv(MAX_DATAGRAM + 1)
            except OSError:
                return
            try:
                self.run(parse(data))
            except (BadCommand, AttributeError, KeyError) as exc:
                log.warning("sim control: bad command %r: %s", data[:80], exc)

    def run(self, cmd: Command) -> None:
        verified = cmd.kind != "uid"
        if cmd.verb == "tap":
            self.reader.tap(cmd.value, cmd.kind, verified=verified)
        elif cmd.verb == "present":
            self.reader.present(cmd.value, cmd.kind, verified=verified)
        elif cmd.verb == "remove":
            self.reader.remove()
        elif cmd.verb == "scan":
            self.qr.scan(cmd.value)
        elif cmd.verb == "press":
            self.buttons.press(cmd.value)
