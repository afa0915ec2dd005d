"""Drive a simulated kiosk running as its own process (`kiosk run` with simulated drivers).

The daemon listens on a UNIX datagram socket (``[reader] path`` with the sim
driver); each datagram is one command: ``tap VALUE [KIND]``, ``present VALUE
[KIND]``, ``remove``, ``scan TEXT``, ``press BUTTON``. Tests use it to tap a card
in a kiosk they later kill -9.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

log = logging.getLogger(__name__)


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
                data = self._sock.recv(4096)
            except OSError:
                return
            try:
                self.command(data.decode("utf-8").split())
            except (ValueError, IndexError, KeyError, AttributeError) as exc:
                log.warning("sim control: bad command %r: %s", data[:80], exc)

    def command(self, words: list[str]) -> None:
        verb, args = words[0], words[1:]
        kind = args[1] if len(args) > 1 else "uid"
        if verb == "tap":
            self.reader.tap(args[0], kind, verified=kind != "uid")
        elif verb == "present":
            self.reader.present(args[0], kind, verified=kind != "uid")
        elif verb == "remove":
            self.reader.remove()
        elif verb == "scan":
            self.qr.scan(" ".join(args))
        elif verb == "press":
            self.buttons.press(args[0])
        else:
            raise ValueError(f"unknown command {verb!r}")


def send(path: str, command: str) -> None:
    """Send one command to a running simulated kiosk."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(command.encode("utf-8"), path)
