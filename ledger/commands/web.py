"""`ledger web --db DB --host 127.0.0.1 --port 8080 --secret-file PATH [--insecure-cookies]`:
the back office (ledger/web), served by uvicorn until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import sys

from ledger.commands import add_db_option

DEFAULT_SECRET = "/var/lib/loyalty-ledger/web.secret"


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"port {text!r} is not a number from 0 to 65535")
    return int(text)


def register(subs) -> None:
    p = subs.add_parser("web", help="serve the back office (see docs/back-office.md)")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (127.0.0.1: behind a reverse proxy on this host)")
    p.add_argument("--port", type=_port, default=int(os.environ.get("LEDGER_WEB_PORT", "8080")),
                   help="port to listen on (env LEDGER_WEB_PORT; default 8080; 0: any free one)")
    p.add_argument("--secret-file", default=DEFAULT_SECRET, metavar="PATH",
                   help="the key that signs sessions; made (mode 0600) when missing"
                   f" (default {DEFAULT_SECRET})")
    p.add_argument("--insecure-cookies", action="store_true",
                   help="plain-http cookies and no HSTS: only for a test or demo on localhost")
    p.set_defaults(func=_web)


def _web(args) -> int:
    from ledger.db import SchemaError, Unavailable
    from ledger.web.serve import serve
    from ledger.web.settings import SecretError, WebSettings, load_secret

    try:
        settings = WebSettings(secret=load_secret(args.secret_file),
                               https=not args.insecure_cookies)
    except (SecretError, OSError) as exc:
        print(f"ledger web: {exc}", file=sys.stderr)
        return 2
    try:
        serve(args.db, settings, args.host, args.port)
    except (SchemaError, Unavailable) as exc:
        print(f"ledger web: cannot open the database: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port is taken, the address is not ours
        print(f"ledger web: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0
