"""Webhook runner throughput: 3,000 events delivered to one endpoint, a receiver on loopback in
its own process (http.server, threads, answering 200), by `ledger webhooks run`'s Runner with
1 and 8 workers, on SQLite and PostgreSQL. Baseline in the same run: the same receiver taking
the same number of signed posts from a bare httpx client with 8 threads, no ledger (its ceiling).

Run: .venv/bin/python -m bench.bench_webhooks
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import machine

N = int(os.environ.get("BENCH_WEBHOOKS_EVENTS", "3000"))

RECEIVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
class S(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def ceiling(url: str) -> float:
    """Posts per second from a bare client, 8 threads, signed like the runner's."""
    import datetime as dt

    import httpx

    from ledger.webhook_runner import headers
    from ledger.webhooks import new_secret

    secret, body = new_secret(), '{"type":"points.earned","data":{}}'
    with httpx.Client(limits=httpx.Limits(max_connections=8)) as client:
        def post(i: int) -> int:
            head = headers(f"evt_{i}", body, [secret], dt.datetime.now(dt.UTC))
            return client.post(url, content=body.encode(), headers=head).status_code

        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(post, range(N))) == {200}
        return N / (time.perf_counter() - t0)


def runner_rate(db: str, url: str, workers: int) -> float:
    from ledger import events, webhook_queue, webhooks
    from ledger.store import LedgerStore
    from ledger.webhook_runner import Runner

    store = LedgerStore(db)
    webhooks.add(store, url, [], "bench")
    with store.transaction() as conn:
        for i in range(N):
            events.emit(conn, "points.earned", f"m-{i % 100}", {"points": 12, "balance": i})
    runner = Runner(store, workers=workers)
    t0 = time.perf_counter()
    while runner.step():
        pass
    rate = N / (time.perf_counter() - t0)
    runner.close()
    if webhook_queue.counts(store) != {(webhooks.endpoints(store)[0].endpoint_id,
                                        "delivered"): N}:
        raise SystemExit(f"not every delivery delivered: {webhook_queue.counts(store)}")
    store.close()
    return rate


def run() -> str:
    from ledger import db as dbm
    from simulation.local_postgres import LocalPostgres, pg_bin

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE,
                                text=True)
    try:
        url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}/hooks"
        top = ceiling(url)
        rows = []
        with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
            for w in (1, 8):
                rows.append(("SQLite", w, runner_rate(str(Path(tmp) / f"w{w}.db"), url, w)))
            if pg_bin() is not None:
                cluster = LocalPostgres(fsync=True).start()
                try:
                    for w in (1, 8):
                        db = cluster.database()
                        dbm.upgrade(db)
                        rows.append(("PostgreSQL 15", w, runner_rate(db, url, w)))
                finally:
                    cluster.stop()
    finally:
        receiver.terminate()
        receiver.wait(10)
    return report(rows, top)


def report(rows: list, top: float) -> str:
    lines = [
        "## Webhooks: deliveries per second",
        "",
        f"`.venv/bin/python -m bench.bench_webhooks` on {machine()}: {N:,} events to one endpoint,"
        " a receiver on loopback in its own process (http.server, keep-alive, 200 to"
        " everything). Baseline in the same run: the receiver's ceiling, the same number of"
        f" signed posts from a bare httpx client with 8 threads: **{top:,.0f} posts/s**.",
        "",
        "| database | workers | deliveries/s | of the ceiling |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {w} | {rate:,.0f} | {rate / top:.2f} |" for name, w, rate in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
