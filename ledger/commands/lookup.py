"""`ledger lookup KIND VALUE`: what a kiosk's lookup of this card or code would answer."""

from __future__ import annotations

import json
import sys

from ledger.commands import add_db_option, open_store


def register(subs) -> None:
    p = subs.add_parser("lookup", help="answer a lookup as the kiosk would get it")
    add_db_option(p)
    p.add_argument("kind", choices=("uid", "ndef", "sun", "qr"), help="token kind")
    p.add_argument("value", help="card UID, card number or code")
    p.set_defaults(func=_lookup)


def _lookup(args) -> int:
    from ledger.programs import ProgramBook
    from ledger.service import lookup_reply
    from mqtt import messages

    store = open_store(args)
    try:
        # The request a kiosk sends, checked as `ledger serve` checks it.
        request = messages.decode(
            "lookup_request",
            messages.encode(
                "lookup_request", {"v": 1, "token": {"kind": args.kind, "value": args.value}}
            ),
        )
    except messages.BadMessage as exc:
        print(f"ledger lookup: {exc}", file=sys.stderr)
        return 2
    # The active program, as `ledger serve` loads it: the reply is the bytes it would publish.
    reply = json.loads(lookup_reply(store, ProgramBook.load(store).active, request))
    print(json.dumps(reply, indent=2, ensure_ascii=False))
    return 0 if reply["found"] else 1
