"""`ledger fleet`: kiosks with last seen, state, queue depth and oldest pending op, from the
broker's retained status messages; exit 1 when a kiosk is offline holding unsynced ops."""

from __future__ import annotations

import os
import sys

DEFAULT_STATE = "/var/lib/loyalty-ledger/fleet.json"


def register(subs) -> None:
    p = subs.add_parser("fleet", help="list kiosks and flag those offline with unsynced ops")
    p.add_argument("--host", default="localhost", help="MQTT broker host")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--username", default="")
    p.add_argument("--password", default="", help="or env LEDGER_MQTT_PASSWORD")
    p.add_argument("--ca-file", default="", help="connect with TLS, verifying with this CA")
    p.add_argument("--wait", type=float, default=2.0, help="seconds to collect retained statuses")
    p.add_argument("--state", default=os.environ.get("LEDGER_FLEET_STATE", DEFAULT_STATE),
                   help="file remembering each kiosk's last full status ('' for none;"
                   f" env LEDGER_FLEET_STATE; default {DEFAULT_STATE})")
    p.add_argument("--kiosks", metavar="FILE", help="the kiosks provisioned, one STORE/LANE/KIOSK"
                   " a line (as for `ledger broker-config`): one that never reported shows offline")
    p.add_argument("--stale", type=float, default=120.0, metavar="SECONDS",
                   help="a kiosk whose last status is older than this shows offline (default 120;"
                   " kiosks publish every 30 s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run)


def collect(args) -> dict[str, dict] | None:
    import threading

    from mqtt import messages, topics
    from mqtt.client import MqttLink, TlsOptions

    statuses: dict[str, dict] = {}

    def on_message(msg) -> None:
        parts = topics.parse_kiosk_topic(msg.topic)
        if parts is None or not msg.payload:
            return
        try:
            statuses[f"{parts[0]}/{parts[1]}"] = messages.decode("status", msg.payload)
        except messages.BadMessage as exc:
            print(f"ignoring bad status on {msg.topic}: {exc}", file=sys.stderr)

    tls = TlsOptions(args.ca_file) if args.ca_file else None
    link = MqttLink(host=args.host, port=args.port, client_id=f"fleet-{os.getpid()}",
                    username=args.username,
                    password=args.password or os.environ.get("LEDGER_MQTT_PASSWORD", ""),
                    tls=tls, clean_start=True, session_expiry=0, on_message=on_message)
    link.subscribe(topics.ALL_STATUS, 1)
    link.start()
    try:
        if not link.subscribed.wait(10):
            return None
        threading.Event().wait(args.wait)
    finally:
        link.stop()
    return statuses


def provisioned(path: str | None) -> set[str]:
    """The store/kiosk keys of the STORE/LANE/KIOSK lines of the file (# comments)."""
    from pathlib import Path

    from ledger.broker_files import parse_kiosk

    if not path:
        return set()
    lines = [ln.split("#")[0].strip() for ln in Path(path).read_text(encoding="utf-8").splitlines()]
    return {f"{k.store}/{k.kiosk}" for k in map(parse_kiosk, filter(None, lines))}


def _run(args) -> int:
    import datetime as dt
    import json

    from ledger import fleet

    try:
        expected = provisioned(args.kiosks)
    except (OSError, ValueError) as exc:
        print(f"fleet: --kiosks {args.kiosks}: {exc}", file=sys.stderr)
        return 2
    statuses = collect(args)
    if statuses is None:
        print(f"fleet: broker {args.host}:{args.port} not reachable or refused us", file=sys.stderr)
        return 2
    known = fleet.load_known(args.state)
    rows = fleet.rows(statuses, known, expected, dt.datetime.now(dt.UTC), args.stale)
    fleet.save_known(args.state, known, statuses)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=1))
    else:
        print(fleet.table(rows) if rows else "no kiosk has published a status yet")
    return 1 if any(r.flag.startswith("OFFLINE") for r in rows) else 0
