"""`ledger balance WHO` and `ledger history WHO`: WHO is a member id or a card UID/number."""

from __future__ import annotations

import json
import sys

from ledger.commands import add_db_option, open_store


def register(subs) -> None:
    for name, func, text in (("balance", _balance, "a member's balance"),
                             ("history", _history, "a member's journal, oldest first")):
        p = subs.add_parser(name, help=text)
        add_db_option(p)
        p.add_argument("who", metavar="TOKEN_OR_MEMBER", help="member id or card UID/number")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)


def _find(args):
    member = open_store(args).find(args.who)
    if member is None:
        print(f"ledger: no member or card {args.who!r}", file=sys.stderr)
    return member


def _balance(args) -> int:
    m = _find(args)
    if m is None:
        return 1
    if args.json:
        print(json.dumps({"member_id": m.member_id, "name": m.name, "tier": m.tier,
                          "balance": m.balance}))
    else:
        print(f"{m.member_id} {m.name}: {m.balance} pts ({m.tier})")
    return 0


def _history(args) -> int:
    m = _find(args)
    if m is None:
        return 1
    entries = open_store(args).history(m.member_id)
    if args.json:
        print(json.dumps(entries))
        return 0
    for e in entries:
        where = f"{e['store']}/{e['kiosk']}#{e['kiosk_seq']}" if e["kiosk"] else ""
        by = f" (by {e['operator']})" if e.get("operator") else ""
        print(f"{e['at']} {e['kind']:<7} {e['points']:>+7} {e['basket_id'] or '':<12} {where}"
              f" {e['reason']}{by}")
    print(f"balance {m.balance}")
    return 0
