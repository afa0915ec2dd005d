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
    p.add_argument("--state", default=DEFAULT_STATE,
                   help="file remembering each kiosk's last full status ('' for none)")
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


def _run(args) -> int:
    import datetime as dt
    import json

    from ledger import fleet

    statuses = collect(args)
    if statuses is None:
        print(f"fleet: broker {args.host}:{args.port} not reachable or refused us", file=sys.stderr)
        return 2
    known = fleet.load_known(args.state)
    now = dt.datetime.now(dt.UTC)
    rows = [fleet.row(*key.split("/"), statuses[key], known.get(key), now)
            for key in sorted(statuses)]
    fleet.save_known(args.state, known, statuses)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=1))
    else:
        print(fleet.table(rows) if rows else "no kiosk has published a status yet")
    return 1 if any(r.flag.startswith("OFFLINE") for r in rows) else 0
