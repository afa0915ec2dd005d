"""Collects what a reader driver emits, for the reader tests (nfcpy and PC/SC alike)."""

import queue


class Events:
    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()
        self.seen: list = []

    def __call__(self, ev) -> None:
        self.q.put(ev)

    def wait(self, kind, timeout: float = 20):
        """The next event of type ``kind``; events of other types are kept in ``seen``."""
        while True:
            ev = self.q.get(timeout=timeout)
            self.seen.append(ev)
            if isinstance(ev, kind):
                return ev

    def drain(self, seconds: float) -> list:
        out = []
        try:
            while True:
                out.append(self.q.get(timeout=seconds))
        except queue.Empty:
            return out
