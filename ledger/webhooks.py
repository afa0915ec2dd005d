"""Webhook endpoints (Standard Webhooks, https://www.standardwebhooks.com): where events go,
which event types, and the secrets their deliveries are signed with.

A secret is ``whsec_`` and 32 random bytes in base64, shown once when it is made. Rotating an
endpoint adds a new secret and keeps the old one for a while (``ROTATION_OVERLAP``): meanwhile
each delivery carries both signatures, so the receiver can switch at its own pace. An endpoint
starts at the newest event: it receives what happens after it was added. Every change here is
made in the caller's transaction-free way (each function opens its own) and audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledger import audit, events
from ledger.store import LedgerError, LedgerStore

ROTATION_OVERLAP = dt.timedelta(hours=24)
MAX_URL = 2000


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    url: str
    event_types: tuple[str, ...]  # empty: every type
    enabled: bool
    disabled_reason: str | None
    created_at: str
    after_seq: int

    def wants(self, type_: str) -> bool:
        return not self.event_types or type_ in self.event_types


def stamp(at: dt.datetime) -> str:
    """A time as the ledger writes it (ISO, UTC, milliseconds, Z): text order is time order."""
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL a runner can post to; ValueError naming what is wrong."""
    if not url or len(url) > MAX_URL or not url.isprintable() or " " in url:
        raise ValueError(f"webhook URL must be 1-{MAX_URL} printable characters without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"webhook URL {url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"webhook URL {url!r}: only http:// and https:// URLs are accepted,"
                         f" not {parts.scheme + '://' if parts.scheme else 'a bare name'}")
    if not parts.hostname:
        raise ValueError(f"webhook URL {url!r} names no host")
    if parts.username or parts.password:
        raise ValueError(f"webhook URL {url!r}: no user or password in the URL; the signature"
                         " authenticates the ledger")
    return url


def check_types(types: list[str]) -> tuple[str, ...]:
    """Event type names as given (``a,b``), each one the ledger emits."""
    unknown = [t for t in types if t not in events.TYPES]
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known:"
                         f" {', '.join(events.TYPES)}")
    return tuple(dict.fromkeys(types))


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add(store: LedgerStore, url: str, types: list[str], actor: str, via: str = "cli",
        now: dt.datetime | None = None) -> tuple[Endpoint, str]:
    """A new enabled endpoint and its secret (the only time the secret is shown)."""
    url, wanted = check_url(url), check_types(types)
    endpoint_id, secret = "ep_" + uuid.uuid4().hex[:16], new_secret()
    at = stamp(now or dt.datetime.now(dt.UTC))
    with store.transaction() as db:
        last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        db.execute("INSERT INTO webhook_endpoints VALUES (?,?,?,?,?,?,?)",
                   (endpoint_id, url, json.dumps(list(wanted)), 1, None, at, int(last)))
        db.execute("INSERT INTO webhook_secrets VALUES (?,?,?,?)", (endpoint_id, secret, at, None))
        audit.record(db, actor, via, "webhook.add", endpoint_id,
                     {"host": urlsplit(url).hostname, "events": list(wanted)})
    return endpoint(store, endpoint_id), secret


def endpoints(store: LedgerStore) -> list[Endpoint]:
    rows = store.db.execute("SELECT endpoint_id, url, event_types, enabled, disabled_reason,"
                            " created_at, after_seq FROM webhook_endpoints ORDER BY created_at,"
                            " endpoint_id").fetchall()
    return [Endpoint(r[0], r[1], tuple(json.loads(r[2])), bool(r[3]), r[4], r[5], int(r[6]))
            for r in rows]


def endpoint(store: LedgerStore, endpoint_id: str) -> Endpoint:
    for found in endpoints(store):
        if found.endpoint_id == endpoint_id:
            return found
    raise LedgerError(f"no webhook endpoint {endpoint_id!r} (see `ledger webhooks list`)")


def resolve(store: LedgerStore, ref: str) -> Endpoint:
    """The endpoint ``ref`` names: its id, or its URL when one endpoint has it."""
    if ref.startswith("ep_"):
        return endpoint(store, ref)
    same = [e for e in endpoints(store) if e.url == ref]
    if len(same) != 1:
        raise LedgerError(f"no webhook endpoint has the URL {ref!r}" if not same else
                          f"{len(same)} endpoints have the URL {ref!r}; name one by its id:"
                          f" {', '.join(e.endpoint_id for e in same)}")
    return same[0]


def signing_secrets(store: LedgerStore, endpoint_id: str, now: dt.datetime) -> list[str]:
    """The secrets a delivery is signed with now, newest first (two during a rotation)."""
    rows = store.db.execute("SELECT secret FROM webhook_secrets WHERE endpoint_id=? AND"
                            " (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC",
                            (endpoint_id, stamp(now))).fetchall()
    return [r[0] for r in rows]


def rotate(store: LedgerStore, endpoint_id: str, actor: str, via: str = "cli",
           now: dt.datetime | None = None, overlap: dt.timedelta = ROTATION_OVERLAP) -> str:
    """A new secret; the current ones stay valid for ``overlap``, and older ones go."""
    now = now or dt.datetime.now(dt.UTC)
    endpoint(store, endpoint_id)
    secret = new_secret()
    with store.transaction() as db:
        db.execute("DELETE FROM webhook_secrets WHERE endpoint_id=? AND expires_at <= ?",
                   (endpoint_id, stamp(now)))
        db.execute("UPDATE webhook_secrets SET expires_at=? WHERE endpoint_id=? AND"
                   " (expires_at IS NULL OR expires_at > ?)",
                   (stamp(now + overlap), endpoint_id, stamp(now + overlap)))
        db.execute("INSERT INTO webhook_secrets VALUES (?,?,?,?)",
                   (endpoint_id, secret, stamp(now), None))
        audit.record(db, actor, via, "webhook.rotate", endpoint_id,
                     {"old_valid_until": stamp(now + overlap)})
    return secret


def set_enabled(store: LedgerStore, endpoint_id: str, enabled: bool, reason: str, actor: str,
                via: str = "cli") -> Endpoint:
    """Enable or disable an endpoint; a disabled one keeps its queue and its cursor, so once
    enabled again it receives what happened meanwhile."""
    endpoint(store, endpoint_id)
    with store.transaction() as db:
        db.execute("UPDATE webhook_endpoints SET enabled=?, disabled_reason=? WHERE"
                   " endpoint_id=?", (int(enabled), None if enabled else reason, endpoint_id))
        audit.record(db, actor, via, "webhook.enable" if enabled else "webhook.disable",
                     endpoint_id, {} if enabled else {"reason": reason})
    return endpoint(store, endpoint_id)
