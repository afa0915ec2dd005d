"""`ledger members` lists members; `ledger members add` creates one with cards and a balance;
show, update, forget and export are in ledger.commands.member_profile; search, block, unblock
and merge in ledger.commands.member_admin."""

from __future__ import annotations

import json
import sys

from ledger.audit import cli_actor
from ledger.commands import add_db_option, open_store
from ledger.commands.card_args import legacy_card_arg, number_arg, read_as_uid_but_number, uid_arg
from ledger.commands.member_admin import register_admin
from ledger.commands.member_link import register_link
from ledger.commands.member_profile import register_actions
from mqtt.topics import id_arg


def register(subs) -> None:
    p = subs.add_parser("members", help="list members, or add one")
    add_db_option(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=_list)
    sub = p.add_subparsers(dest="action")
    add = sub.add_parser("add", help="create a member")
    add_db_option(add)
    add.add_argument("--name", required=True, help="display name (shown on the kiosk)")
    add.add_argument("--card-number", dest="numbers", action="append", default=[],
                     type=number_arg, metavar="NUMBER",
                     help="number printed on the card, e.g. MEMBER-0042 (repeatable)")
    add.add_argument("--uid", dest="uids", action="append", default=[], type=uid_arg,
                     metavar="HEX", help="card chip UID in hex, e.g. 04A1B2C3D4E5F6 (repeatable)")
    add.add_argument("--card", action="append", default=[], type=legacy_card_arg,
                     help="older form: hex digits only is a UID, anything else a card number")
    add.add_argument("--id", type=id_arg, default=None, help="member id (default: generated)")
    add.add_argument("--balance", type=int, default=0, help="opening balance in points")
    add.add_argument("--store", type=id_arg, default=None,
                     help="home store: under a kiosk policy only kiosks serving it may act for the"
                     " member (default: none, every store)")
    add.add_argument("--birth-month", type=_month, default=None, metavar="1-12",
                     help="for birthday-month promotions (the month only is kept)")
    add.set_defaults(func=_add)
    register_actions(sub)
    register_link(sub)
    register_admin(sub)


def _month(text: str) -> int:
    import argparse

    if not text.isdigit() or not 1 <= int(text) <= 12:
        raise argparse.ArgumentTypeError(f"birth month {text!r} must be a number from 1 to 12")
    return int(text)


def _list(args) -> int:
    store = open_store(args)
    for m in store.members():
        if args.json:
            print(json.dumps({"member_id": m.member_id, "name": m.name, "tier": m.tier,
                              "balance": m.balance, "cards": store.cards(m.member_id)}))
        else:
            print(f"{m.member_id:<16} {m.balance:>8} pts  {m.tier:<8} {m.name}"
                  f"  {' '.join(store.cards(m.member_id))}")
    return 0


def _add(args) -> int:
    if len(args.name) > 64 or not args.name.isprintable():
        print("ledger: --name must be printable and at most 64 characters", file=sys.stderr)
        return 2
    keys = list(dict.fromkeys([*args.numbers, *args.uids, *args.card]))
    member_id = open_store(args).add_member(args.name, [], args.id, args.balance,
                                            birth_month=args.birth_month, card_keys=keys,
                                            home_store=args.store, actor=cli_actor())
    for value in read_as_uid_but_number(args.card):
        print(f"ledger: --card {value} registered as a UID; if it is the number printed on the"
              f" card, run `ledger cards replace --uid {value} --new-card-number {value}`",
              file=sys.stderr)
    print(member_id)
    return 0
