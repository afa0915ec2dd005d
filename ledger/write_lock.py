"""A queue for SQLite writers: an flock on ``<database>-lock`` taken before BEGIN IMMEDIATE.

Several `ledger serve` workers on one SQLite file take turns at its single write lock. Left to
SQLite, a writer that finds the lock taken polls it, sleeping 1, 2, 5, 10 ... up to 100 ms
between tries (its busy handler), so the lock often sits free while the next writer sleeps:
with four workers, live, most of their wall time went there (docs/benchmarks.md, ledger
section). A blocking flock wakes the next writer when the lock is released. SQLite's own lock
still decides; a writer that does not take this lock (an older `ledger`) is only slower.
The kernel drops the flock when its holder dies, kill -9 included.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class WriteLock:
    def __init__(self, db_path: str) -> None:
        self.path = f"{db_path}-lock"
        self._fd: int | None = None
        self._broken = False  # the lock file cannot be made: SQLite's own waiting alone

    @contextmanager
    def held(self) -> Iterator[None]:
        fd = self._open()
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL until the writer before is done
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int | None:
        if self._fd is None and not self._broken:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                self._broken = True
                log.warning("no writer queue for %s (%s): writers wait as SQLite makes them",
                            self.path, exc)
        return self._fd
