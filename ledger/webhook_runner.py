"""`ledger webhooks run`: turns events into deliveries, posts the due ones, signed per Standard
Webhooks, and records what each receiver answered (ledger.webhook_queue).

Headers: ``webhook-id`` (the event's id: the same on every attempt, for de-duplication),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature`` (``v1,<base64
HMAC-SHA256 of id.timestamp.body>`` per secret, space-separated: two during a rotation). A 2xx
answer delivers; 410 Gone disables the endpoint; anything else, a timeout or a refused
connection is retried later. Redirects are not followed (a 3xx is a failure to fix at the
receiver). Logs name deliveries, event types and endpoints, never what the body holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

import httpx
from standardwebhooks import Webhook

from ledger import webhook_queue as queue
from ledger.store import LedgerStore
from ledger.webhooks import endpoints, signing_secrets

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
LEASE_MARGIN = dt.timedelta(seconds=5)
USER_AGENT = "loyalty-ledger-webhooks/1"


def headers(event_id: str, body: str, secrets: list[str], now: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with every secret given."""
    at = dt.datetime.fromtimestamp(int(now.timestamp()), dt.UTC)
    signatures = " ".join(Webhook(s).sign(event_id, at, body) for s in secrets)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": USER_AGENT}


class Runner:
    """One runner over one ledger database; ``step`` does one round, ``run`` loops."""

    def __init__(self, store: LedgerStore, timeout: float = TIMEOUT_S) -> None:
        self.store, self.timeout = store, timeout
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)
        self.stopping = threading.Event()

    def close(self) -> None:
        self.client.close()

    def step(self, now: dt.datetime | None = None) -> int:
        """Queue new events, send what is due; how many deliveries were made and attempted
        (0: nothing to do until new events come or a retry is due)."""
        now = now or dt.datetime.now(dt.UTC)
        made = queue.enqueue(self.store, now)
        lease = dt.timedelta(seconds=self.timeout) + LEASE_MARGIN
        due = queue.claim(self.store, now, lease)
        urls = {e.endpoint_id: e.url for e in endpoints(self.store)}
        for delivery in due:
            if self.stopping.is_set():
                break  # claimed but not sent: due again after its lease
            self.send(delivery, urls[delivery.endpoint_id], now)
        return made + len(due)

    def send(self, delivery: queue.Delivery, url: str, now: dt.datetime) -> None:
        """Post one delivery and record the answer; ``now`` schedules a retry, while the
        signature's timestamp is the wall clock's (the receiver checks it against its own)."""
        wall = dt.datetime.now(dt.UTC)
        body = queue.body(self.store, delivery.event_id)
        secrets = signing_secrets(self.store, delivery.endpoint_id, wall)
        try:
            response = self.client.post(url, content=body.encode(),
                                        headers=headers(delivery.event_id, body, secrets, wall))
        except httpx.HTTPError as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._failed(delivery, None, why, now)
            return
        status = response.status_code
        if 200 <= status < 300:
            queue.delivered(self.store, delivery, status)
            log.info("delivery %d (%s) to %s: %d", delivery.delivery_id, delivery.type,
                     delivery.endpoint_id, status)
        elif status == 410:
            queue.gone(self.store, delivery, now)
            log.warning("endpoint %s answered 410 Gone: disabled", delivery.endpoint_id)
        else:
            self._failed(delivery, status, f"HTTP {status} {response.reason_phrase}".strip(), now)

    def _failed(self, delivery: queue.Delivery, status: int | None, error: str,
                now: dt.datetime) -> None:
        state = queue.failed_attempt(self.store, delivery, status, error, now)
        log.warning("delivery %d (%s) to %s: %s; %s", delivery.delivery_id, delivery.type,
                    delivery.endpoint_id, error,
                    "given up" if state == "failed" else "will retry")

    def run(self, once: bool = False, poll: float = 1.0) -> None:
        """Rounds until stopped (SIGTERM, SIGINT); with ``once``, until nothing is due."""
        while not self.stopping.is_set():
            sent = self.step()
            if not sent:
                if once:
                    return
                self.stopping.wait(poll)

    def stop_on_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
