"""Login rate limiting, per user name and per client address, kept in the database
(``login_failures``) so it holds across restarts and between several workers.

After ``FREE`` failures within ``WINDOW``, the next attempt must wait ``BASE`` seconds after the
last failure, doubling with each further failure up to ``CAP``. An address is allowed more
failures than a name (several staff may share a shop's address). A refused attempt checks no
password and is not counted, so a locked-out person can come back once the wait is over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.events import now_iso

WINDOW = dt.timedelta(minutes=15)
BASE_S = 30
CAP_S = 15 * 60


@dataclass(frozen=True)
class Limit:
    column: str
    free: int


LIMITS = (Limit("user_name", 5), Limit("client", 20))


def _parse(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at)


def _iso(at: dt.datetime) -> str:
    """As ledger.events.now_iso writes ``at`` (so the text comparisons in SQL hold)."""
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_seconds(db, user_name: str, client: str, now: dt.datetime | None = None) -> int:
    """How long this name or address must still wait before trying again (0: go ahead)."""
    now = now or dt.datetime.now(dt.UTC)
    since = _iso(now - WINDOW)
    longest = 0
    for limit, value in zip(LIMITS, (user_name, client), strict=True):
        count, last = db.execute(
            f"SELECT COUNT(*), MAX(at) FROM login_failures WHERE {limit.column} = ? AND at >= ?",
            (value, since),
        ).fetchone()
        if int(count) < limit.free:
            continue
        delay = min(CAP_S, BASE_S * 2 ** (int(count) - limit.free))
        left = (_parse(last) + dt.timedelta(seconds=delay) - now).total_seconds()
        longest = max(longest, int(left) + 1 if left > 0 else 0)
    return longest


def failed(db, user_name: str, client: str) -> None:
    """Count a wrong password (in the caller's transaction); drop rows older than the window."""
    db.execute("INSERT INTO login_failures (at, user_name, client) VALUES (?, ?, ?)",
               (now_iso(), user_name, client))
    old = _iso(dt.datetime.now(dt.UTC) - WINDOW)
    db.execute("DELETE FROM login_failures WHERE at < ?", (old,))


def succeeded(db, user_name: str) -> None:
    """A right password clears the name's failures (the address's age out on their own)."""
    db.execute("DELETE FROM login_failures WHERE user_name = ?", (user_name,))
