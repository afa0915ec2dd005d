"""`ledger config-update`: sign a config change for one kiosk and publish it (retained)."""

from __future__ import annotations

import os
import sys
import time


def register(subs) -> None:
    p = subs.add_parser("config-update", help="send one kiosk a signed config change")
    p.add_argument("--key", required=True, help="signing key (PEM, Ed25519); its public half is"
                   " in the kiosk's remote.keys (`ledger provision-code --new-key` makes one)")
    p.add_argument("--store", required=True)
    p.add_argument("--kiosk", required=True)
    p.add_argument("--set", action="append", default=[], required=True, metavar="SECTION.KEY=VALUE",
                   help="a TOML value, e.g. lookup.timeout_ms=800 or broker.host='b2.example'")
    p.add_argument("--serial", type=int, default=None, help="must rise (default: unix time)")
    p.add_argument("--valid-days", type=float, default=7.0)
    p.add_argument("--print", action="store_true", help="print the message, do not publish")
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--username", default="")
    p.add_argument("--ca-file", default="", help="connect with TLS, verifying with this CA")
    p.set_defaults(func=_run)


def parse_settings(items: list[str]) -> dict:
    import tomllib

    settings: dict = {}
    for item in items:
        name, eq, raw = item.partition("=")
        section, dot, key = name.partition(".")
        if not (eq and dot and section and key):
            raise ValueError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word is a string
        settings.setdefault(section, {})[key] = value
    return settings


def _publish(args, text: str) -> bool:
    from mqtt.client import MqttLink, TlsOptions
    from mqtt.topics import config as topic

    link = MqttLink(host=args.host, port=args.port, client_id=f"config-update-{os.getpid()}",
                    username=args.username, password=os.environ.get("LEDGER_MQTT_PASSWORD", ""),
                    tls=TlsOptions(args.ca_file) if args.ca_file else None, clean_start=True,
                    session_expiry=0)
    link.start()
    if not link.wait_connected(10):
        link.stop()
        return False
    link.stop(final=(topic(args.store, args.kiosk), text.encode(), True))  # waits for the PUBACK
    return True


def _run(args) -> int:
    from codes.config_update import sign_update
    from codes.keys import load_private

    try:
        settings = parse_settings(args.set)
        serial = args.serial if args.serial is not None else int(time.time())
        text = sign_update(load_private(args.key), args.store, args.kiosk, serial, settings,
                           int(args.valid_days * 86400))
    except ValueError as exc:
        print(f"config-update: {exc}", file=sys.stderr)
        return 2
    if args.print:
        print(text)
        return 0
    if not _publish(args, text):
        print(f"config-update: broker {args.host}:{args.port} not reachable", file=sys.stderr)
        return 2
    print(f"published config update {serial} for {args.store}/{args.kiosk}")
    return 0
