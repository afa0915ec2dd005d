"""The reservations table: one limited reward (a stock, or a count per member) held for a member
while the POS applies its discount, so two lanes cannot both give the last one.

A reservation counts against the limits like a redemption until the sale op that carries its id
consumes it (then the journal counts it, once), its kiosk releases it, or it lapses. Lapsing is
checked when the table is read (``expires_at`` is epoch seconds): no timer thread.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from ledger.store import LedgerStore

HOLD_S = 600  # a reservation's life: long enough for a sale at the till, short if it is lost

Counts = dict[str, tuple[int, int]]  # reward_id -> (by everyone, by this member)


def _marks(values: Iterable) -> str:
    return ",".join("?" for _ in values)


def held(
    store: LedgerStore,
    reward_ids: list[str],
    member_id: str,
    now: float | None = None,
    exclude: Iterable[str] = (),
) -> Counts:
    """Live reservations of these rewards (all, this member's); ``exclude``: ids not to count
    (the op consuming them)."""
    if not reward_ids:
        return {}
    exclude = sorted(set(exclude))
    skip = f" AND reservation_id NOT IN ({_marks(exclude)})" if exclude else ""
    rows = store.db.execute(
        "SELECT reward_id, COUNT(*), SUM(CASE WHEN member_id=? THEN 1 ELSE 0 END)"
        f" FROM reservations WHERE expires_at > ? AND reward_id IN ({_marks(reward_ids)}){skip}"
        " GROUP BY reward_id",
        [member_id, time.time() if now is None else now, *reward_ids, *exclude],
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def counts(
    store: LedgerStore,
    reward_ids: list[str],
    member_id: str,
    now: float | None = None,
    exclude: Iterable[str] = (),
) -> Counts:
    """Redemptions so far plus live reservations, per reward: what the limits are checked on."""
    used = store.redemptions(reward_ids, member_id)
    for reward_id, (everyone, mine) in held(store, reward_ids, member_id, now, exclude).items():
        before = used.get(reward_id, (0, 0))
        used[reward_id] = (before[0] + everyone, before[1] + mine)
    return used


def add(
    store: LedgerStore,
    reward_id: str,
    member_id: str,
    asker: tuple[str, str],
    basket_id: str | None,
    now: float,
    hold_s: float = HOLD_S,
) -> str:
    """A new reservation (inside the caller's transaction); returns its id."""
    reservation_id = uuid.uuid4().hex
    store.db.execute(
        "INSERT INTO reservations VALUES (?,?,?,?,?,?,?)",
        (reservation_id, reward_id, member_id, asker[0], asker[1], basket_id, now + hold_s),
    )
    return reservation_id


def consume(store: LedgerStore, reservation_id: str, member_id: str, reward_id: str) -> None:
    """The sale redeemed it: from now the journal counts it."""
    store.db.execute(
        "DELETE FROM reservations WHERE reservation_id=? AND member_id=? AND reward_id=?",
        (reservation_id, member_id, reward_id),
    )


def release(store: LedgerStore, reservation_id: str, asker: tuple[str, str]) -> bool:
    """Give a reservation back; only the kiosk that holds it may. True when one was held."""
    cur = store.db.execute(
        "DELETE FROM reservations WHERE reservation_id=? AND store=? AND kiosk=?",
        (reservation_id, *asker),
    )
    return cur.rowcount > 0


def purge(store: LedgerStore, now: float) -> int:
    """Forget lapsed reservations (they already count for nothing); returns how many."""
    return store.db.execute("DELETE FROM reservations WHERE expires_at <= ?", (now,)).rowcount
