"""Database connections for the web app's requests: a small pool of LedgerStores.

Starlette runs a sync endpoint in a thread pool, so two requests may run at once. A sqlite3 or
psycopg connection must not be used by two threads at the same time, and opening one per request
costs (a PostgreSQL connect, SQLite's PRAGMAs). So a request borrows a whole LedgerStore for its
duration (``with pool.store() as store``) and gives it back; at most ``size`` are open, further
requests wait for one. A store whose request raised is closed, not reused: it may hold a broken
connection or an open transaction. The schema is checked once, when the pool is made.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.store import LedgerStore


class StorePool:
    def __init__(self, db: str, size: int = 8) -> None:
        LedgerStore(db).close()  # brings SQLite up to date; says what to run on PostgreSQL
        self.db = db
        self._idle: queue.LifoQueue[LedgerStore] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def store(self) -> Iterator[LedgerStore]:
        self._slots.acquire()
        try:
            try:
                store = self._idle.get_nowait()
            except queue.Empty:
                store = LedgerStore(self.db, readonly=True)  # schema checked at start
            try:
                yield store
            except BaseException:
                store.close()
                raise
            self._idle.put(store)
        finally:
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
