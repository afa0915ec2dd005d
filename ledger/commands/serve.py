"""`ledger serve`: apply ops and answer lookups from the broker until SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading

from ledger.commands import add_db_option
from mqtt.topics import id_arg

log = logging.getLogger(__name__)


def register(subs) -> None:
    p = subs.add_parser("serve", help="apply ops and answer lookups from the MQTT broker")
    add_db_option(p)
    p.add_argument("--host", default="localhost", help="MQTT broker host")
    p.add_argument("--port", type=int, default=1883, help="MQTT broker port")
    p.add_argument("--username", default="", help="MQTT username")
    p.add_argument("--password", default="", help="MQTT password (or env LEDGER_MQTT_PASSWORD)")
    p.add_argument("--worker", default="main", type=id_arg,
                   help="this worker's name; give each `ledger serve` on one broker its own")
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    import os

    from ledger.service import LedgerService

    password = args.password or os.environ.get("LEDGER_MQTT_PASSWORD", "")
    service = LedgerService(args.db, args.host, args.port, args.worker,
                            username=args.username, password=password)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    if not service.start():
        log.warning("broker %s:%s not reachable yet; retrying in the background", args.host,
                    args.port)
    while not done.is_set() and not service.link.subscribed.wait(0.5):
        pass
    log.info("ledger ready (db %s, worker %s)", args.db, args.worker)
    done.wait()
    service.stop()
    log.info("ledger stopped after applying %d ops", service.applied_total)
    return 0
