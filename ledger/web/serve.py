"""Running the app with uvicorn: in the foreground for `ledger web`, or on a background thread
for tests (``Serving``), both saying where they listen once the socket is bound."""

from __future__ import annotations

import contextlib
import logging
import threading

import uvicorn

from ledger.web.app import create_app
from ledger.web.settings import WebSettings

log = logging.getLogger("ledger.web")


class _Server(uvicorn.Server):
    """uvicorn's server, which tells the bound port (``--port 0`` picks a free one)."""

    bound = threading.Event()
    port = 0

    async def startup(self, sockets=None) -> None:
        try:
            await super().startup(sockets)  # exits (SystemExit) when it cannot bind
            if self.servers and self.servers[0].sockets:
                self.port = self.servers[0].sockets[0].getsockname()[1]
                log.info("ledger web ready on http://%s:%d", self.config.host, self.port)
        finally:
            self.bound.set()

    @contextlib.contextmanager
    def capture_signals(self):
        """As uvicorn's, but a stop asked for by SIGTERM or Ctrl-C is a clean exit (status 0):
        uvicorn would raise the signal again once it has shut down."""
        with super().capture_signals():
            yield
            getattr(self, "_captured_signals", []).clear()


def _server(db: str, settings: WebSettings, host: str, port: int) -> _Server:
    app = create_app(db, settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    server = _Server(config)
    server.bound = threading.Event()
    return server


def serve(db: str, settings: WebSettings, host: str, port: int) -> None:
    """Serve until SIGTERM or Ctrl-C (uvicorn stops gracefully on both)."""
    server = _server(db, settings, host, port)
    server.run()
    if not server.started:
        raise OSError(98, "the server did not start (is the port in use?)")


class Serving:
    """The app on a background thread: ``with Serving(db, settings) as s: s.base_url``."""

    def __init__(self, db: str, settings: WebSettings, host: str = "127.0.0.1") -> None:
        self.server = _server(db, settings, host, 0)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="ledger-web")

    def __enter__(self) -> Serving:
        self.thread.start()
        if not self.server.bound.wait(30) or not self.server.port:
            raise RuntimeError("the web app did not start within 30 s")
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
