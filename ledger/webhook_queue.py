"""The webhook delivery queue, durable in the ledger's database: deliveries are made from events
(each endpoint's cursor over events.seq), claimed when due, and settled with what the receiver
answered.

A claimed delivery is due again after ``lease`` (the HTTP timeout and a margin) unless its
outcome is recorded first, so a runner killed mid-delivery loses nothing: the next runner sends
it again, under the same webhook-id (at-least-once). A failure is retried on ``SCHEDULE`` with
jitter, for up to ``GIVE_UP_AFTER`` from when the delivery was queued; then it is ``failed``
(`ledger webhooks retry` queues it again with a fresh schedule).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

from ledger import audit, events
from ledger.store import LedgerError, LedgerStore
from ledger.webhooks import Endpoint, endpoints, stamp

# Seconds to wait after the 1st, 2nd, ... failed attempt; the last one repeats.
SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
GIVE_UP_AFTER = dt.timedelta(days=3)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %, so retries do not arrive in step
STATES = ("pending", "delivered", "failed")
MAX_ERROR = 300
LOCK_WAIT_MS = 200  # PostgreSQL: how long the runner may hold ledger workers' event writes


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    event_id: str
    endpoint_id: str
    state: str
    attempts: int
    next_attempt_at: str
    last_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    created_at: str
    type: str = ""
    give_up_at: str = ""


def delay(attempts: int) -> dt.timedelta:
    """How long after the ``attempts``-th failed attempt the next one goes."""
    base = SCHEDULE[min(attempts, len(SCHEDULE)) - 1]
    return dt.timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def horizon(store: LedgerStore) -> int | None:
    """The highest events.seq below which every event is committed or never will be (None:
    not known this time; the caller tries again at its next poll).

    On PostgreSQL a transaction takes its seq when it inserts and may commit after a later one,
    so a cursor past a visible event could skip one still in flight. A SHARE lock on events
    waits for the transactions writing to it: every seq up to the maximum read under it is
    settled. New writers queue behind the lock, so it is given up after ``LOCK_WAIT`` (a long
    transaction, a segment refresh, is not waited for). SQLite commits in seq order."""
    try:
        with store.transaction() as db:
            if store.postgres:
                db.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
                db.execute("LOCK TABLE events IN SHARE MODE")
            return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    except Exception as exc:
        if store.postgres and type(exc).__name__ == "LockNotAvailable":
            return None
        raise


def enqueue(store: LedgerStore, now: dt.datetime, limit: int = 1000) -> int:
    """Deliveries for the events after each enabled endpoint's cursor; how many events were
    looked at (so a caller keeps going while an endpoint's filter skips a long run of them)."""
    top, made = horizon(store), 0
    if top is None:
        return 0
    for endpoint in endpoints(store):
        if endpoint.enabled and endpoint.after_seq < top:
            made += _enqueue_for(store, endpoint, top, now, limit)
    return made


def _enqueue_for(store: LedgerStore, endpoint: Endpoint, top: int, now: dt.datetime,
                 limit: int) -> int:
    got = [e for e in events.since(store.db, endpoint.after_seq, limit=limit) if e.seq <= top]
    if not got:
        return 0
    wanted = [e for e in got if endpoint.wants(e.type)]
    at, give_up = stamp(now), stamp(now + GIVE_UP_AFTER)
    with store.transaction() as db:
        if wanted:
            db.executemany("INSERT INTO webhook_deliveries (event_id, endpoint_id, state,"
                           " attempts, next_attempt_at, created_at, give_up_at)"
                           " VALUES (?,?,?,?,?,?,?) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                           [(e.event_id, endpoint.endpoint_id, "pending", 0, at, at, give_up)
                            for e in wanted])
        db.execute("UPDATE webhook_endpoints SET after_seq=? WHERE endpoint_id=? AND"
                   " after_seq < ?", (got[-1].seq, endpoint.endpoint_id, got[-1].seq))
    return len(got)


def claim(store: LedgerStore, now: dt.datetime, lease: dt.timedelta,
          limit: int = 50) -> list[Delivery]:
    """Due deliveries of enabled endpoints, each counted as an attempt and due again after
    ``lease`` should its outcome never be recorded (a runner killed mid-delivery)."""
    skip = " FOR UPDATE OF d SKIP LOCKED" if store.postgres else ""  # runners side by side
    with store.transaction() as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints p"
            " ON p.endpoint_id = d.endpoint_id JOIN events e ON e.event_id = d.event_id"
            " WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND p.enabled = 1"
            f" ORDER BY d.next_attempt_at, d.delivery_id LIMIT ?{skip}",
            (stamp(now), limit)).fetchall()
        if rows:
            where, ids = store.one_of("delivery_id", [r[0] for r in rows])
            db.execute("UPDATE webhook_deliveries SET attempts = attempts + 1,"
                       f" next_attempt_at=?, last_attempt_at=? WHERE {where}",
                       (stamp(now + lease), stamp(now), *ids))
    return [_delivery(r) for r in rows]


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: an HTTP status (None: no answer) and the error, if any."""

    delivery: Delivery
    status: int | None
    error: str | None = None


def record(store: LedgerStore, outcomes: list[Outcome], now: dt.datetime) -> dict[int, str]:
    """Settle a round's attempts in one transaction (one commit, not one per delivery): 2xx
    delivered; 410 failed and its endpoint disabled; anything else due again after ``delay``,
    or failed past the delivery's three days. The state of each delivery, by id."""
    states, rows = {}, []
    with store.transaction() as db:
        for o in outcomes:
            d = o.delivery
            if o.status is not None and 200 <= o.status < 300:
                state, error, next_at = "delivered", None, None
            elif o.status == 410:
                state, error, next_at = "failed", "410 Gone: endpoint disabled", None
                db.execute("UPDATE webhook_endpoints SET enabled=0, disabled_reason=? WHERE"
                           " endpoint_id=?", (f"410 Gone at {stamp(now)}", d.endpoint_id))
            else:  # the claim counted this attempt in the database, not in ``d``
                next_at = stamp(now + delay(d.attempts + 1))
                state, error = "failed" if next_at > d.give_up_at else "pending", o.error
            rows.append((state, o.status, (error or "")[:MAX_ERROR] or None, next_at,
                         d.delivery_id))
            states[d.delivery_id] = state
        if rows:  # pipelined on PostgreSQL: one round trip, not one per delivery
            db.executemany("UPDATE webhook_deliveries SET state=?, last_status=?, last_error=?,"
                           " next_attempt_at=COALESCE(?, next_attempt_at) WHERE delivery_id=?",
                           rows)
    return states


def retry(store: LedgerStore, delivery_id: int, now: dt.datetime, actor: str,
          via: str = "cli") -> Delivery:
    """Queue a delivery again now, with a fresh schedule (after a fix at the receiver)."""
    found = get(store, delivery_id)
    if found is None:
        raise LedgerError(f"no webhook delivery {delivery_id} (see `ledger webhooks deliveries`)")
    with store.transaction() as db:
        db.execute("UPDATE webhook_deliveries SET state='pending', next_attempt_at=?,"
                   " give_up_at=? WHERE delivery_id=?",
                   (stamp(now), stamp(now + GIVE_UP_AFTER), delivery_id))
        audit.record(db, actor, via, "webhook.retry", found.endpoint_id,
                     {"delivery": delivery_id, "event_id": found.event_id})
    return get(store, delivery_id)


def get(store: LedgerStore, delivery_id: int) -> Delivery | None:
    row = store.db.execute(f"SELECT {_COLUMNS} FROM webhook_deliveries d JOIN events e ON"
                           " e.event_id = d.event_id WHERE d.delivery_id=?",
                           (delivery_id,)).fetchone()
    return _delivery(row) if row else None


def deliveries(store: LedgerStore, endpoint_id: str | None = None, state: str | None = None,
               limit: int = 50) -> list[Delivery]:
    """The newest deliveries first, of one endpoint or state when given."""
    sql, params = (f"SELECT {_COLUMNS} FROM webhook_deliveries d JOIN events e ON"
                   " e.event_id = d.event_id WHERE 1=1", [])
    if endpoint_id is not None:
        sql, params = sql + " AND d.endpoint_id=?", [*params, endpoint_id]
    if state is not None:
        sql, params = sql + " AND d.state=?", [*params, state]
    rows = store.db.execute(sql + " ORDER BY d.delivery_id DESC LIMIT ?",
                            (*params, limit)).fetchall()
    return [_delivery(r) for r in rows]


def counts(store: LedgerStore) -> dict[tuple[str, str], int]:
    """(endpoint_id, state) -> number of deliveries."""
    rows = store.db.execute("SELECT endpoint_id, state, COUNT(*) FROM webhook_deliveries"
                            " GROUP BY endpoint_id, state").fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def bodies(store: LedgerStore, event_ids: list[str]) -> dict[str, str]:
    """The JSON each event's deliveries post, the same bytes on every attempt (Standard
    Webhooks' payload: type, timestamp, data), in one query."""
    if not event_ids:
        return {}
    where, values = store.one_of("event_id", event_ids)
    rows = store.db.execute(f"SELECT event_id, type, member_id, data, at FROM events WHERE {where}",
                            values).fetchall()
    out = {}
    for event_id, type_, member_id, data, at in rows:
        payload = {"event_id": event_id, "member_id": member_id, **json.loads(data)}
        out[event_id] = json.dumps({"type": type_, "timestamp": at, "data": payload},
                                   sort_keys=True, separators=(",", ":"))
    return out


_COLUMNS = ("d.delivery_id, d.event_id, d.endpoint_id, d.state, d.attempts, d.next_attempt_at,"
            " d.last_attempt_at, d.last_status, d.last_error, d.created_at, e.type,"
            " d.give_up_at")


def _delivery(row) -> Delivery:
    return Delivery(int(row[0]), row[1], row[2], row[3], int(row[4]), row[5], row[6],
                    None if row[7] is None else int(row[7]), row[8], row[9], row[10], row[11])
