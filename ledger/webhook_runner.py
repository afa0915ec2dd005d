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
from concurrent.futures import ThreadPoolExecutor

import httpx
from standardwebhooks import Webhook

from ledger import webhook_queue as queue
from ledger.store import LedgerStore
from ledger.webhooks import endpoints, signing_secrets

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
WORKERS = 8  # deliveries posted at once
ROUND = 50  # deliveries claimed per round
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
    """One runner over one ledger database; ``step`` does one round, ``run`` loops. A round's
    deliveries (up to ``ROUND``) are posted by ``workers`` threads at once and their outcomes
    recorded in one transaction; a receiver that does not answer holds its round for at most
    the timeout."""

    def __init__(self, store: LedgerStore, timeout: float = TIMEOUT_S,
                 workers: int = WORKERS) -> None:
        self.store, self.timeout = store, timeout
        self.client = httpx.Client(timeout=timeout, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=workers))
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="webhook")
        # A claim lasts the round, were every post of it to time out, and a margin.
        self.lease = dt.timedelta(seconds=timeout * -(-ROUND // workers)) + LEASE_MARGIN
        self.stopping = threading.Event()

    def close(self) -> None:
        self.pool.shutdown()
        self.client.close()

    def step(self, now: dt.datetime | None = None) -> int:
        """Queue new events, send what is due; how many events were looked at and deliveries
        attempted (0: nothing to do until new events come or a retry is due)."""
        now = now or dt.datetime.now(dt.UTC)
        made = queue.enqueue(self.store, now)
        due = queue.claim(self.store, now, self.lease, ROUND)
        if not due or self.stopping.is_set():
            return made + len(due)  # claimed and not sent: due again after the lease
        outcomes = list(self.pool.map(self.post, self._requests(due)))
        states = queue.record(self.store, outcomes, now)
        for o in outcomes:
            self._log(o, states[o.delivery.delivery_id])
        return made + len(due)

    def _requests(self, due: list[queue.Delivery]) -> list[tuple]:
        """(delivery, url, body, headers) for each, read here: the database connection is this
        thread's; the posting threads only talk HTTP."""
        wall = dt.datetime.now(dt.UTC)  # the receiver checks the timestamp against its clock
        urls = {e.endpoint_id: e.url for e in endpoints(self.store)}
        secrets = {e: signing_secrets(self.store, e, wall) for e in {d.endpoint_id for d in due}}
        bodies = queue.bodies(self.store, list({d.event_id for d in due}))
        return [(d, urls[d.endpoint_id], bodies[d.event_id],
                 headers(d.event_id, bodies[d.event_id], secrets[d.endpoint_id], wall))
                for d in due]

    def post(self, request: tuple) -> queue.Outcome:
        delivery, url, body, head = request
        try:
            response = self.client.post(url, content=body.encode(), headers=head)
        except httpx.HTTPError as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return queue.Outcome(delivery, None, why)
        status = response.status_code
        return queue.Outcome(delivery, status, None if 200 <= status < 300 else
                             f"HTTP {status} {response.reason_phrase}".strip())

    @staticmethod
    def _log(o: queue.Outcome, state: str) -> None:
        d = o.delivery
        if state == "delivered":
            log.info("delivery %d (%s) to %s: %d", d.delivery_id, d.type, d.endpoint_id, o.status)
        elif o.status == 410:
            log.warning("endpoint %s answered 410 Gone: disabled", d.endpoint_id)
        else:
            log.warning("delivery %d (%s) to %s: %s; %s", d.delivery_id, d.type, d.endpoint_id,
                        o.error, "given up" if state == "failed" else "will retry")

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
