"""`ledger serve`: apply ops and answer lookups from the broker until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading

from ledger.commands import add_db_option
from ledger.commands.member_link import add_link_options, link_maker
from mqtt.topics import id_arg

log = logging.getLogger(__name__)


def register(subs) -> None:
    p = subs.add_parser("serve", help="apply ops and answer lookups from the MQTT broker")
    add_db_option(p)
    p.add_argument("--host", default="localhost", help="MQTT broker host")
    p.add_argument("--port", type=int, default=1883, help="MQTT broker port")
    p.add_argument("--username", default="", help="MQTT username")
    p.add_argument("--password", default="", help="MQTT password (or env LEDGER_MQTT_PASSWORD)")
    p.add_argument("--program-key", default=os.environ.get("LEDGER_PROGRAM_KEY", ""),
                   metavar="PEM", help="Ed25519 key to sign the program published to the kiosks"
                   " (env LEDGER_PROGRAM_KEY; `ledger program new-key` makes one)")
    p.add_argument("--proof-keys", metavar="FILE", default="",
                   help="TOML file of the keys the ledger checks tokens' proof with: [sun] SUN keys,"
                   " [ndef] card-number public keys, [qr] member-code public keys (docs/ledger.md);"
                   " without it no qr token is accepted and SUN/signed cards count as unverified")
    p.add_argument("--kiosk-policy", metavar="FILE", default="",
                   help="the kiosk-policy.toml `ledger broker-config` writes: each kiosk's stores"
                   " and redemption limits; without it every kiosk serves every member")
    p.add_argument("--worker", default="main", type=id_arg,
                   help="this worker's name; give each `ledger serve` on one broker its own")
    p.add_argument("--no-batches", dest="batches", action="store_false",
                   help="speak contract v1.0 only: one op per message, no capabilities message"
                   " (kiosks then send single ops)")
    p.add_argument("--reserve-minutes", type=_minutes, default=10.0,
                   help="how long a kiosk's reservation of a limited reward (stock, per member)"
                   " holds before it lapses (default 10)")
    add_link_options(p)  # lookups that ask get a link to the member's page (docs/ledger.md)
    p.set_defaults(func=_serve)


def _account_link(args):
    """member id -> a signed kiosk link to the member's page, or None without --web-url."""
    from ledger import member_links

    maker = link_maker(args)
    if maker is None:
        return None
    base, keys = maker
    return lambda member_id: member_links.url(base, keys.token(member_id, "kiosk"))


def _minutes(text: str) -> float:
    """A reservation's life in minutes: above 0, at most a day (the reply's expires_in_s)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 < value <= 1440:
        raise argparse.ArgumentTypeError(f"{text} minutes: give more than 0, at most 1440")
    return value


def _serve(args) -> int:
    from codes.keys import load_private
    from ledger.db import SchemaError, Unavailable
    from ledger.service import LedgerService

    password = args.password or os.environ.get("LEDGER_MQTT_PASSWORD", "")
    try:
        key = load_private(args.program_key) if args.program_key else None
    except ValueError as exc:
        log.error("program key: %s", exc)
        return 2
    try:
        trust = _trust(args)
        account_link = _account_link(args)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    service = LedgerService(args.db, args.host, args.port, args.worker,
                            username=args.username, password=password, program_key=key,
                            batches=args.batches, trust=trust, account_link=account_link)
    service.reserve_s = args.reserve_minutes * 60
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    try:
        connected = service.start()
    except (SchemaError, Unavailable, OSError) as exc:
        log.error("cannot open the ledger database: %s", exc)
        service.link.stop()
        return 2
    if not connected:
        log.warning("broker %s:%s not reachable yet; retrying in the background", args.host,
                    args.port)
    while not done.is_set() and not service.link.subscribed.wait(0.5):
        pass
    log.info("ledger ready (db %s, worker %s)", args.db, args.worker)
    done.wait()
    service.stop()
    log.info("ledger stopped after applying %d ops in %d transactions", service.applied_total,
             service.batches_total)
    return 0


def _trust(args):
    """The proof keys and kiosk policy the options name; ValueError says which file is bad."""
    from ledger.policy import KioskPolicy
    from ledger.proof import ProofKeys
    from ledger.trust import Trust

    try:
        keys = ProofKeys.load(args.proof_keys) if args.proof_keys else ProofKeys()
    except ValueError as exc:
        raise ValueError(f"proof keys: {exc}") from None
    try:
        policy = KioskPolicy.load(args.kiosk_policy) if args.kiosk_policy else KioskPolicy()
    except ValueError as exc:
        raise ValueError(f"kiosk policy: {exc}") from None
    log.info("proof keys: %s; kiosk policy: %s",
             ", ".join(n for n, on in (("SUN", keys.sun), ("card", keys.card_keys),
                                       ("QR", keys.qr_keys)) if on) or "none",
             f"{len(policy.kiosks)} kiosks" if policy.active else "none (every kiosk, every member)")
    return Trust(keys, policy)
