"""`ledger members search TEXT`, `members block|unblock MEMBER --reason R` and `members merge
KEEP DUPLICATE --reason R` (ledger.member_search, ledger.member_admin). Changes are audited as
the command line's user (ledger.audit.cli_actor)."""

from __future__ import annotations

import argparse
import json
import sys

from ledger.commands import add_db_option, open_store


def _reason(text: str) -> str:
    from ledger.member_admin import check_reason

    try:
        return check_reason(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(name: str, low: int, high: int):
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{name} {text!r} must be a number from {low} to {high}")
        return int(text)

    return parse


def register_admin(sub) -> None:
    from ledger.member_search import MAX_LIMIT, MAX_OFFSET, PAGE

    p = sub.add_parser("search", help="find members by name, email, phone, card or id")
    add_db_option(p)
    p.add_argument("text", metavar="TEXT", help="part of a name or email, a phone, card or id")
    p.add_argument("--offset", type=_count("--offset", 0, MAX_OFFSET), default=0)
    p.add_argument("--limit", type=_count("--limit", 1, MAX_LIMIT), default=PAGE)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=_search)
    for name, helptext, func in (
        ("block", "refuse a member's cards at the counter from now on", _block),
        ("unblock", "lift a member's block", _unblock),
    ):
        b = sub.add_parser(name, help=helptext)
        add_db_option(b)
        b.add_argument("member", metavar="MEMBER", help="member id or card UID/number")
        b.add_argument("--reason", required=True, type=_reason, help="why (kept in the audit log)")
        b.set_defaults(func=func)
    m = sub.add_parser("merge", help="merge a duplicate member into the member kept")
    add_db_option(m)
    m.add_argument("keep", metavar="KEEP", help="the member kept (id or card)")
    m.add_argument("duplicate", metavar="DUPLICATE", help="the duplicate (id or card)")
    m.add_argument("--reason", required=True, type=_reason, help="why (kept in the audit log)")
    m.set_defaults(func=_merge)


def _search(args) -> int:
    from ledger.member_search import search

    page = search(open_store(args), args.text, args.offset, args.limit)
    for h in page.hits:
        if args.json:
            print(json.dumps(h.__dict__, ensure_ascii=False))
        else:
            flag = "  BLOCKED" if h.blocked else ""
            print(f"{h.member_id:<16} {h.balance:>8} pts  {h.tier:<8} {h.name}{flag}")
    if page.more:
        print(f"(more: --offset {page.offset + page.limit})", file=sys.stderr)
    return 0


def _who(store, text: str) -> str | None:
    found = store.find(text)
    if found is None:
        print(f"ledger: no member or card {text!r}", file=sys.stderr)
        return None
    return found.member_id


def _change(args, action) -> int:
    from ledger.audit import cli_actor

    store = open_store(args)
    if (who := _who(store, args.member)) is None:
        return 1
    action(store, who, args.reason, cli_actor(), "cli")
    print(f"{who}: {args.action}ed ({args.reason})")
    return 0


def _block(args) -> int:
    from ledger.member_admin import block

    return _change(args, block)


def _unblock(args) -> int:
    from ledger.member_admin import unblock

    return _change(args, unblock)


def _merge(args) -> int:
    from ledger.audit import cli_actor
    from ledger.member_admin import merge

    store = open_store(args)
    keep, duplicate = _who(store, args.keep), _who(store, args.duplicate)
    if keep is None or duplicate is None:
        return 1
    balance = merge(store, keep, duplicate, args.reason, cli_actor(), "cli")
    print(f"{duplicate} merged into {keep}; balance {balance}")
    return 0
