"""What the camera, HID and serial QR inputs share: one thread, reopen on failure, the gate.

A subclass implements ``open()`` (returns when the device is ready, raises
OSError naming the device when it is not), ``poll()`` (waits a short while
for input, returns the texts it completed) and ``close()``. This class reports
health to the session, retries a vanished device, and runs each text through
the ``QrGate``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from drivers.base import ReaderHealth
from drivers.config_schema import QR, with_defaults
from drivers.qr_token import QrGate
from drivers.reader_thread import ReaderThread

log = logging.getLogger(__name__)

RETRY_S = 2.0  # a missing or failed device is tried again this often


class QrInput(ReaderThread):
    name = "qr"
    retry_s = RETRY_S

    def __init__(self, section: Mapping, name: str) -> None:
        super().__init__()
        self.section = with_defaults(section, QR)  # a validated section lacks nothing
        self.name = name
        self.gate = QrGate.from_config(self.section, name)

    # The Reader interface (start, stop) is ReaderThread's.

    # -- for subclasses -------------------------------------------------------------
    def open(self) -> None:
        raise NotImplementedError

    def poll(self) -> list[str | bytes]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def take(self, text: str | bytes) -> None:
        """One text read from the device: verified by the gate, then to the session."""
        event = self.gate.check(text)
        if event is not None and self._emit is not None:
            self._emit(event)

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        healthy: bool | None = None
        while not self._stop.is_set():
            try:
                self.open()
            except OSError as exc:
                if healthy is not False:
                    self._health(False, str(exc))
                    healthy = False
                self._stop.wait(self.retry_s)
                continue
            self._health(True, "ready")
            healthy = True
            try:
                while not self._stop.is_set():
                    for text in self.poll():
                        self.take(text)
            except OSError as exc:
                self._health(False, str(exc))
                healthy = False
            except Exception as exc:  # a driver bug must not silently end the input
                if healthy is not False:
                    log.exception("%s: unexpected failure", self.name)
                    self._health(False, f"failed: {exc}")
                healthy = False
                self._stop.wait(self.retry_s)
            finally:
                self.close()

    def _health(self, ok: bool, detail: str) -> None:
        (log.info if ok else log.warning)("%s: %s", self.name, detail)
        if self._emit is not None:
            self._emit(ReaderHealth(self.name, ok, detail))
