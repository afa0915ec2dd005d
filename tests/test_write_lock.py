"""ledger/write_lock.py: SQLite writers queue on ``<db>-lock`` before BEGIN IMMEDIATE.

SQLite only (PostgreSQL writers do not take it), so these run on SQLite files rather than the
``ledger_db`` fixture's two databases.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time

from ledger.store import LedgerStore
from simulation.scenario import wait_for


def lock_taken(db: str) -> bool:
    """Whether some writer holds ``<db>-lock`` (asked the way the writers take it)."""
    fd = os.open(f"{db}-lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock if it was taken here
    return False


def test_a_second_writer_waits_for_the_first_and_then_writes(tmp_path):
    db = str(tmp_path / "l.db")
    first, second = LedgerStore(db), LedgerStore(db)
    order = []

    def write_second():
        with second.transaction():
            second.create_member("m-2")
            order.append("second wrote")

    try:
        with first.transaction():
            first.create_member("m-1")
            waiter = threading.Thread(target=write_second)
            waiter.start()
            time.sleep(0.3)  # the second is queued on the lock, not failing or writing
            assert lock_taken(db)
            order.append("first commits")
        waiter.join(10)
        assert not lock_taken(db)
        assert order == ["first commits", "second wrote"]
        assert first.member("m-1") and first.member("m-2")
    finally:
        first.close()
        second.close()


def test_a_writer_killed_mid_transaction_leaves_the_lock_free(tmp_path):
    db = str(tmp_path / "l.db")
    LedgerStore(db).close()  # the schema, before the child opens it
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from ledger.store import LedgerStore\n"
         f"s = LedgerStore({db!r})\n"
         "with s.transaction():\n"
         "    s.create_member('m-gone')\n"
         "    print('holding', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "holding"
        store = LedgerStore(db)
        done = threading.Event()

        def write():
            with store.transaction():
                store.create_member("m-after")
            done.set()

        threading.Thread(target=write, daemon=True).start()
        assert not done.wait(0.3), "wrote while another writer held the lock"
        assert lock_taken(db)
        child.kill()
        assert wait_for(done.is_set, 10), "the lock stayed taken after kill -9"
        assert store.member("m-after") and not store.member("m-gone")
        store.close()
    finally:
        child.kill()
        child.wait()
