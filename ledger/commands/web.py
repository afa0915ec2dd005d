"""`ledger web --db DB --host 127.0.0.1 --port 8080 --secret-file PATH [--insecure-cookies]`:
the back office (ledger/web), served by uvicorn until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import sys

from ledger.commands import add_db_option
from mqtt.topics import id_arg

DEFAULT_SECRET = "/var/lib/loyalty-ledger/web.secret"


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"port {text!r} is not a number from 0 to 65535")
    return int(text)


def _period(text: str) -> int:
    import argparse

    if not text.isdigit() or not 5 <= int(text) <= 600:
        raise argparse.ArgumentTypeError(f"period {text!r}: give whole seconds from 5 to 600")
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
    p.add_argument("--link-key", default=os.environ.get("LEDGER_LINK_KEY", ""), metavar="FILE",
                   help="the member links' key file (env LEDGER_LINK_KEY; `ledger members"
                   " link-key`): without it there are no member pages")
    p.add_argument("--qr-key", default=os.environ.get("LEDGER_QR_KEY", ""), metavar="PEM",
                   help="the member QR signing key (env LEDGER_QR_KEY; `ledger qr --new-key`):"
                   " without it the member's page shows no code")
    p.add_argument("--qr-program", default="loyalty", type=id_arg,
                   help="program id the member codes carry (the kiosks' [qr] program)")
    p.add_argument("--qr-period", default=30, type=_period,
                   help="member code rotation in seconds, 5-600 (the kiosks' [qr] period)")
    _fleet_options(p)
    p.set_defaults(func=_web)


def _member_page(args) -> dict:
    """The member page's settings from the options; ValueError naming a bad key file."""
    from codes import keys
    from ledger import member_links

    return {"links": member_links.load(args.link_key) if args.link_key else None,
            "qr_key": keys.load_private(args.qr_key) if args.qr_key else None,
            "qr_program": args.qr_program, "qr_period": args.qr_period}


def _fleet_options(p) -> None:
    """The fleet page's broker, state file, provisioned kiosks and config-update key."""
    from ledger.commands.fleet import DEFAULT_STATE

    g = p.add_argument_group("fleet page")
    g.add_argument("--mqtt-host", default="", help="the kiosks' MQTT broker (none: no fleet page"
                   " figures)")
    g.add_argument("--mqtt-port", type=_port, default=1883)
    g.add_argument("--mqtt-username", default="", help="password from env LEDGER_MQTT_PASSWORD")
    g.add_argument("--mqtt-ca-file", default="", help="connect with TLS, verifying with this CA")
    g.add_argument("--fleet-state", default=os.environ.get("LEDGER_FLEET_STATE", DEFAULT_STATE),
                   help="the file remembering each kiosk's last full status, as `ledger fleet`"
                   f" (env LEDGER_FLEET_STATE; default {DEFAULT_STATE}; '' for none)")
    g.add_argument("--kiosks", metavar="FILE", help="the kiosks provisioned, one STORE/LANE/KIOSK"
                   " a line: one that never reported shows offline")
    g.add_argument("--config-key", default="", metavar="PEM",
                   help="the key signing config updates sent from the fleet page (its public"
                   " half in the kiosks' [remote] keys); none: the page sends none")
    g.add_argument("--pending-alert-minutes", type=float, default=15.0,
                   help="a kiosk whose oldest pending op is older than this is an alert")


def _fleet_settings(args) -> dict:
    """WebSettings' fleet fields from the options; ValueError names a wrong one."""
    from ledger.commands.fleet import provisioned
    from ledger.config_updates import Broker

    if not 0 < args.pending_alert_minutes <= 7 * 24 * 60:
        raise ValueError("--pending-alert-minutes must be above 0 and at most a week")
    if args.config_key and not os.path.isfile(args.config_key):
        raise ValueError(f"--config-key {args.config_key}: no such file")
    try:
        kiosks = provisioned(args.kiosks)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--kiosks {args.kiosks}: {exc}") from None
    broker = None
    if args.mqtt_host:
        broker = Broker(args.mqtt_host, args.mqtt_port, args.mqtt_username,
                        os.environ.get("LEDGER_MQTT_PASSWORD", ""), args.mqtt_ca_file)
    return {"broker": broker, "fleet_state": args.fleet_state, "kiosks": frozenset(kiosks),
            "config_key": args.config_key, "pending_alert_minutes": args.pending_alert_minutes}


def _web(args) -> int:
    from ledger.db import SchemaError, Unavailable
    from ledger.web.serve import serve
    from ledger.web.settings import SecretError, WebSettings, load_secret

    try:
        settings = WebSettings(secret=load_secret(args.secret_file),
                               https=not args.insecure_cookies, **_member_page(args),
                               **_fleet_settings(args))
    except (SecretError, OSError, ValueError) as exc:
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
