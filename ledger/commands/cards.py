"""`ledger cards add|replace|remove|list`: a member's loyalty cards.

A card is named by the number printed on it (``--card-number MEMBER-0042``, the number its
NFC record carries) or by its chip's UID (``--uid 04A1B2C3D4E5F6``, for cards with nothing
written on them): the same key the kiosk looks the tap up by.
"""

from __future__ import annotations

import json
import sys

from ledger.audit import cli_actor
from ledger.commands import add_db_option, open_store
from ledger.commands.card_args import add_card_options


def register(subs) -> None:
    p = subs.add_parser("cards", help="register, replace or remove a member's cards")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="give a member a card")
    add.add_argument(
        "--member", required=True, metavar="WHO", help="member id, or a card the member has already"
    )
    add_card_options(add)
    add.set_defaults(func=_add)
    rep = sub.add_parser("replace", help="move a member from a lost card to a new one; the old"
                         " card is blocked")
    add_card_options(rep, what="the old card")
    add_card_options(rep, prefix="new-", what="the new card")
    rep.add_argument("--reason", default="replaced", type=_reason,
                     help="why (kept with the blocked old card; default: replaced)")
    rep.set_defaults(func=_replace)
    rem = sub.add_parser("remove", help="unregister a card")
    add_card_options(rem)
    rem.set_defaults(func=_remove)
    ls = sub.add_parser("list", help="registered cards and who holds them")
    ls.add_argument("--member", metavar="WHO", help="only this member's cards")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=_list)
    for parser in (add, rep, rem, ls):
        add_db_option(parser)


def _reason(text: str):
    import argparse

    from ledger.member_admin import check_reason

    try:
        return check_reason(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _member(store, who: str) -> str | None:
    member = store.find(who)
    if member is None:
        print(f"ledger: no member or card {who!r}", file=sys.stderr)
        return None
    return member.member_id


def _run(action, *args) -> str | bool | None:
    from ledger.store import LedgerError

    try:
        return action(*args)
    except LedgerError as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return None


def _add(args) -> int:
    from ledger.cards import add_card, describe

    store = open_store(args)
    member_id = _member(store, args.member)
    added = member_id and _run(add_card, store, member_id, args.key, cli_actor())
    if added is None:
        return 1
    print(f"{member_id}: {describe(args.key)}" + ("" if added else " (registered already)"))
    return 0


def _replace(args) -> int:
    from ledger.cards import describe, replace_card

    member_id = _run(replace_card, open_store(args), args.key, args.new_key, cli_actor(), "cli",
                     args.reason)
    if member_id is None:
        return 1
    print(f"{member_id}: {describe(args.new_key)} replaces {describe(args.key)};"
          f" {describe(args.key)} is blocked")
    return 0


def _remove(args) -> int:
    from ledger.cards import describe, remove_card

    member_id = _run(remove_card, open_store(args), args.key, cli_actor())
    if member_id is None:
        return 1
    print(f"{member_id}: {describe(args.key)} removed")
    return 0


def _list(args) -> int:
    from ledger.cards import card_list, describe

    store = open_store(args)
    member_id = None
    if args.member:
        member_id = _member(store, args.member)
        if member_id is None:
            return 1
    for key, holder, added_at in card_list(store, member_id):
        if args.json:
            print(
                json.dumps(
                    {"key": key, "card": describe(key), "member_id": holder, "added_at": added_at}
                )
            )
        else:
            print(f"{holder:<16} {describe(key):<40} {added_at}")
    return 0
