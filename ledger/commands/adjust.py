"""`ledger adjust WHO POINTS --reason TEXT --operator NAME`: a manual adjustment, journalled."""

from __future__ import annotations

import argparse
import re
import sys

from ledger.audit import cli_actor
from ledger.commands import add_db_option, open_store

OPERATOR_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def register(subs) -> None:
    p = subs.add_parser("adjust", help="add or take points by hand, with a reason and who did it")
    add_db_option(p)
    p.add_argument("who", metavar="TOKEN_OR_MEMBER", help="member id or card UID/number")
    p.add_argument("points", type=_points, help="points to add, or take with a minus sign")
    p.add_argument("--reason", required=True, type=_reason, help="why (kept in the journal)")
    p.add_argument("--operator", required=True, type=_operator, help="who made the adjustment")
    p.set_defaults(func=_adjust)


def _points(text: str) -> int:
    try:
        points = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"points {text!r} must be a whole number") from None
    if points == 0 or abs(points) > 1_000_000:
        raise argparse.ArgumentTypeError("points must be non-zero and at most 1000000 either way")
    return points


def _reason(text: str) -> str:
    if not text.strip() or len(text) > 200 or not text.isprintable():
        raise argparse.ArgumentTypeError("--reason must be printable text of 1 to 200 characters")
    return text.strip()


def _operator(text: str) -> str:
    if not OPERATOR_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"--operator {text!r}: use 1-64 of A-Z a-z 0-9 _ . @ -")
    return text


def _adjust(args) -> int:

    store = open_store(args)
    member = store.find(args.who)
    if member is None:
        print(f"ledger: no member or card {args.who!r}", file=sys.stderr)
        return 1
    balance = store.adjust(member.member_id, args.points, args.reason, args.operator,
                           actor=cli_actor())
    print(f"{member.member_id}: {args.points:+d} pts ({args.reason}, by {args.operator});"
          f" balance {balance}")
    return 0
