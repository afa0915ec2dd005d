"""`ledger lookup KIND VALUE`: what a kiosk's lookup of this card or code would answer."""

from __future__ import annotations

import json

from ledger.commands import add_db_option, open_store


def register(subs) -> None:
    p = subs.add_parser("lookup", help="answer a lookup as the kiosk would get it")
    add_db_option(p)
    p.add_argument("kind", choices=("uid", "ndef", "sun", "qr"), help="token kind")
    p.add_argument("value", help="card UID, card number or code")
    p.set_defaults(func=_lookup)


def _lookup(args) -> int:
    from ledger.apply import lookup
    from program.engine import DefaultProgram

    reply = lookup(open_store(args), DefaultProgram(),
                   {"v": 1, "token": {"kind": args.kind, "value": args.value}})
    print(json.dumps(reply, indent=2))
    return 0 if reply["found"] else 1
