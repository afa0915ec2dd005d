"""`ledger config-update`: sign a config change for one kiosk and publish it (retained), written
to the ledger's audit log (`--db`) as done by the operator who ran it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ledger.commands import add_db_option, open_store


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
    add_db_option(p)  # the audit log
    p.set_defaults(func=_run)


def _audit_store(args):
    """The ledger database the update is audited in; None (said why) if there is none."""
    from ledger.db import is_postgres

    if not is_postgres(args.db) and not Path(args.db).exists():
        print(f"config-update: no ledger database at {args.db} to write the audit log to;"
              " pass --db (or set LEDGER_DB)", file=sys.stderr)
        return None
    return open_store(args)


def _run(args) -> int:
    from codes.keys import load_private
    from ledger import config_updates
    from ledger.audit import cli_actor

    try:
        update = config_updates.build(load_private(args.key), args.store, args.kiosk, args.set,
                                      args.serial, args.valid_days)
    except ValueError as exc:
        print(f"config-update: {exc}", file=sys.stderr)
        return 2
    if args.print:
        print(update.text)
        return 0
    store = _audit_store(args)
    if store is None:
        return 2
    broker = config_updates.Broker(args.host, args.port, args.username,
                                   os.environ.get("LEDGER_MQTT_PASSWORD", ""), args.ca_file)
    if not config_updates.publish(broker, update):
        print(f"config-update: broker {args.host}:{args.port} not reachable", file=sys.stderr)
        return 2
    config_updates.record(store, update, cli_actor(), "cli")
    print(f"published config update {update.serial} for {args.store}/{args.kiosk}")
    return 0
