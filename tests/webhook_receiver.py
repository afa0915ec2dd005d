"""A real HTTP receiver for webhook tests: http.server on a loopback port in a thread, which
records every whole request and answers from a script (a status per request, 200 when the script is
used up; "hold" waits until released, as a slow receiver does)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> dict:
        """The payload, if the signature holds for ``secret`` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 drops the runner's parallel connects (SYN retry)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.cut = 0  # requests whose body did not arrive whole (not in ``requests``)
        self.script: list[int | str] = []
        self.release = threading.Event()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing to act on
                    receiver.cut += 1
                    return
                with receiver.arrived:
                    receiver.requests.append(Request(self.path, dict(self.headers), body))
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.arrived.notify_all()
                if status == "hold":
                    receiver.release.wait(60)
                    status = 200
                self.send_response(int(status))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Request]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)
