"""The thread every reader runs on: ``start(emit)`` begins it, ``stop()`` ends it and waits.

Card readers (drivers/card_reader.py) and code readers (drivers/qr_input.py) both poll their
device on one thread of their own and hand events to ``emit``; this is that part, once.
"""

from __future__ import annotations

import logging
import threading

from drivers.base import Emit

log = logging.getLogger(__name__)


class ReaderThread:
    """Subclasses set ``name`` and define ``_run`` (which loops until ``_stop`` is set)."""

    name: str
    stop_join_s = 5.0  # how long stop() waits for the loop to see the stop

    def __init__(self) -> None:
        self._emit: Emit | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, emit: Emit) -> None:
        self._emit = emit
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.stop_join_s)
            if self._thread.is_alive():
                log.warning("%s: reader thread did not stop within %.0f s", self.name,
                            self.stop_join_s)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
