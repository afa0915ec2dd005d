"""Database connections for the web app's requests: a small pool of LedgerStores.

Starlette runs a sync endpoint in a thread pool, so two requests may run at once. A sqlite3 or
psycopg connection must not be used by two threads at the same time, and opening one per request
costs (a PostgreSQL connect, SQLite's PRAGMAs). So a request borrows a whole LedgerStore for its
duration (``with pool.store() as store``) and gives it back; at most ``size`` are open, further
requests wait for one. A store whose request raised is closed, not reused: it may hold a broken
connection or an open transaction. The schema is checked once, when the pool is made.

A store that sat idle longer than ``PING_AFTER`` seconds is pinged before it is lent: after the
database restarted, its connection is dead, and without the ping the first request to borrow it
would fail. A store that fails the ping is closed and a new one opened in its place.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.store import LedgerStore

log = logging.getLogger(__name__)
PING_AFTER = 5.0


class StorePool:
    def __init__(self, db: str, size: int = 8) -> None:
        LedgerStore(db).close()  # brings SQLite up to date; says what to run on PostgreSQL
        self.db = db
        self._idle: queue.LifoQueue[tuple[LedgerStore, float]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def store(self) -> Iterator[LedgerStore]:
        self._slots.acquire()
        try:
            store = self._borrow()
            try:
                yield store
            except BaseException:
                store.close()
                raise
            self._idle.put((store, time.monotonic()))
        finally:
            self._slots.release()

    def _borrow(self) -> LedgerStore:
        try:
            store, since = self._idle.get_nowait()
        except queue.Empty:
            return LedgerStore(self.db, readonly=True)  # schema checked at start
        if time.monotonic() - since > PING_AFTER and not _alive(store):
            log.info("a pooled database connection was dead; opening a new one")
            store.close()
            return LedgerStore(self.db, readonly=True)
        return store

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait()[0].close()
            except queue.Empty:
                return


def _alive(store: LedgerStore) -> bool:
    try:
        store.db.execute("SELECT 1").fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means the connection can't be used
        return False
