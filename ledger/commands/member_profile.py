"""`ledger members show|update|forget|export MEMBER`: a member's profile, and their privacy
rights (erasure that keeps every sum, and a JSON copy of their data). See ledger.profiles."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ledger import profile_fields as pf
from ledger.audit import cli_actor
from ledger.commands import add_db_option, open_store

FIELDS = ("name", "email", "phone", "birth_date", "language")


def checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from a profile_fields check: its message, not "invalid value"."""

    def parse(text: str) -> str:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__
    return parse


def register_actions(sub) -> None:
    """The profile actions under `ledger members`."""
    for name, helptext, func in (
        ("show", "a member's profile, labels, notes and consents", _show),
        ("forget", "erase a member's personal data; points, baskets and reports stay", _forget),
        ("export", "everything held about a member, as JSON (access, portability)", _export),
    ):
        p = sub.add_parser(name, help=helptext)
        add_db_option(p)
        p.add_argument("member", metavar="MEMBER", help="member id or card UID/number")
        if name == "show":
            p.add_argument("--json", action="store_true", help="as one JSON object")
        p.set_defaults(func=func)
    p = sub.add_parser("update", help="change a member's profile, labels or notes")
    add_db_option(p)
    p.add_argument("member", metavar="MEMBER", help="member id or card UID/number")
    p.add_argument("--name", type=checked(pf.name), help="display name (shown on the kiosk)")
    p.add_argument("--email", type=checked(pf.email))
    p.add_argument("--phone", type=checked(pf.phone), help="digits, optionally after a +")
    p.add_argument("--birth-date", type=checked(pf.birth_date), metavar="YYYY-MM-DD")
    p.add_argument("--language", type=checked(pf.language), help="e.g. de, en, pt-BR")
    p.add_argument(
        "--label",
        action="append",
        default=[],
        type=checked(pf.label),
        help="add a label (repeatable)",
    )
    p.add_argument(
        "--unlabel",
        action="append",
        default=[],
        type=checked(pf.label),
        help="remove a label (repeatable)",
    )
    p.add_argument("--note", type=checked(pf.note), help="add a staff note")
    p.add_argument("--operator", default="staff", help="who wrote the note")
    p.set_defaults(func=_update)


def member_id(store, who: str) -> str | None:
    """The member ``who`` names (id or card), or None after saying so on stderr."""
    found = store.find(who)
    if found is None:
        print(f"ledger: no member or card {who!r}", file=sys.stderr)
        return None
    return found.member_id


def _show(args) -> int:
    from ledger.member_admin import blocked
    from ledger.profiles import profile

    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    found = profile(store, who)
    if args.json:
        print(json.dumps(found.as_dict(), ensure_ascii=False))
        return 0
    print(f"{found.member_id}: {found.name}" + (" (forgotten)" if found.forgotten_at else ""))
    if block := blocked(store, found.member_id):
        print(f"  blocked: since {block[0][:10]} ({block[1]})")
    for name in FIELDS[1:]:
        print(f"  {name.replace('_', ' ')}: {getattr(found, name) or '-'}")
    print(f"  labels: {' '.join(found.labels) or '-'}")
    for n in found.notes:
        print(f"  note ({n['operator']}, {n['at'][:10]}): {n['note']}")
    for channel in sorted({c.channel for c in found.consents}):
        c = found.consent(channel)
        print(
            f"  consent {channel}: {'given' if c.given else 'withdrawn'} {c.at[:10]}"
            f" ({c.source}, wording {c.wording})"
        )
    return 0


def _update(args) -> int:
    from ledger.profiles import update

    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    fields = {k: getattr(args, k) for k in FIELDS if getattr(args, k) is not None}
    if not (fields or args.label or args.unlabel or args.note):
        print(
            "ledger: nothing to update: give --email, --phone, --birth-date, --language,"
            " --name, --label, --unlabel or --note",
            file=sys.stderr,
        )
        return 2
    update(store, who, fields, args.label, args.unlabel, args.note or "", args.operator,
           actor=cli_actor())
    print(f"{who}: updated {', '.join(fields) or 'labels/notes'}")
    return 0


def _forget(args) -> int:
    from ledger.profiles import forget

    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    cards = forget(store, who, actor=cli_actor())
    print(f"{who}: personal data erased, {cards} card(s) unbound; points and baskets kept")
    return 0


def _export(args) -> int:
    from ledger.profiles import export

    store = open_store(args)
    if (who := member_id(store, args.member)) is None:
        return 1
    print(json.dumps(export(store, who), ensure_ascii=False, indent=2, default=str))
    return 0
