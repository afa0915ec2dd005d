"""`ledger segments list|show|members|export|add|remove|refresh`: RFM and rule segments
(docs/segments.md)."""

from __future__ import annotations

import json
import sys

from ledger.commands import add_db_option, open_store

FORMATS = ("csv", "jsonl", "mailchimp", "klaviyo", "brevo")  # ledger.segment_export.FORMATS


def register(subs) -> None:
    p = subs.add_parser("segments", help="RFM and rule segments: list, members, export, refresh")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("list", "every segment, its size at the last refresh and where it is defined"),
        ("refresh", "score every member (RFM), recompute every segment, record the sizes"),
    ):
        a = sub.add_parser(name, help=help_text)
        add_db_option(a)
        a.set_defaults(func=_list if name == "list" else _refresh)
    for name, func, help_text in (
        ("show", _show, "a segment's definition and its sizes over time"),
        ("members", _members, "the member ids in a segment"),
        ("remove", _remove, "remove a segment added by `ledger segments add`"),
    ):
        a = sub.add_parser(name, help=help_text)
        add_db_option(a)
        a.add_argument("name", metavar="NAME")
        a.set_defaults(func=func)
    a = sub.add_parser("export", help="a segment's members with contact, for one channel")
    add_db_option(a)
    a.add_argument("name", metavar="NAME")
    a.add_argument("--format", choices=FORMATS,
                   default="csv", help="csv, jsonl, or an email tool's import file (members with"
                   " email consent only; docs/segments.md)")
    a.add_argument(
        "--consent",
        metavar="CHANNEL",
        help="csv and jsonl: only members whose consent for this channel holds (email, sms...)",
    )
    a.set_defaults(func=_export)
    a = sub.add_parser("add", help="define a rule segment: --rule '{\"all\": [...]}'")
    add_db_option(a)
    a.add_argument("name", metavar="NAME")
    a.add_argument("--rule", required=True, help='JSON: {"all": [criteria]} or {"any": [...]}')
    a.add_argument("--title", help="the name shown (default: NAME)")
    a.set_defaults(func=_add)


def _fail(message: str, status: int = 1) -> int:
    print(f"ledger: {message}", file=sys.stderr)
    return status


def _list(args) -> int:
    from ledger import segment_book as book
    from program.segments import RFM_SEGMENTS

    store = open_store(args)
    defs = book.definitions(store)
    rows = [(s, "rfm") for s in RFM_SEGMENTS] + [(s, src) for s, (_, src) in defs.items()]
    for segment_id, source in rows:
        history = book.sizes(store, segment_id)
        size = f"{history[-1][1]} members at {history[-1][0]}" if history else "never refreshed"
        print(f"{segment_id:<16} {source:<8} {size}")
    return 0


def _refresh(args) -> int:
    from ledger import segment_book as book
    from ledger.store import LedgerError

    store = open_store(args)
    try:
        changes = book.refresh(store)
    except LedgerError as exc:
        return _fail(str(exc))
    for segment_id, size in sorted(changes.sizes.items()):
        print(f"{segment_id}: {size}")
    print(f"refreshed at {changes.at}: {len(changes.entered)} entered, {len(changes.left)} left")
    return 0


def _show(args) -> int:
    from ledger import segment_book as book
    from ledger.store import LedgerError

    store = open_store(args)
    try:
        definition = book.known(store, args.name)
    except LedgerError as exc:
        return _fail(str(exc))
    if definition is None:
        print(f"{args.name}: RFM segment (docs/segments.md), as of the last refresh")
    else:
        body = json.loads(json.dumps(definition.rule, default=lambda o: o.__dict__))
        print(f"{args.name}: {definition.name} ({book.definitions(store)[args.name][1]})")
        print(f"  rule: {json.dumps(body)}")
    for at, size in book.sizes(store, args.name):
        print(f"  {at}: {size}")
    return 0


def _members(args) -> int:
    from ledger import segment_book as book
    from ledger.store import LedgerError

    store = open_store(args)
    try:
        print(
            "\n".join(book.members(store, args.name)) or f"{args.name}: no members",
        )
    except LedgerError as exc:
        return _fail(str(exc))
    return 0


def _export(args) -> int:
    from ledger import segment_export
    from ledger.store import LedgerError
    from program.segments import CHANNELS

    if args.consent is not None and args.consent not in CHANNELS:
        return _fail(
            f"--consent {args.consent!r} is not a channel; one of {', '.join(CHANNELS)}", 2
        )
    if args.format in segment_export.TOOLS and args.consent not in (None, "email"):
        return _fail(f"--format {args.format} holds members with email consent only;"
                     f" --consent {args.consent} goes with csv or jsonl", 2)
    from ledger import audit

    store = open_store(args)
    try:
        rows = segment_export.audience(store, args.name, args.format, args.consent)
        # In the audit log; the audience is read outside the write transaction, which on SQLite
        # would hold back every worker's sales for as long as a big segment takes to read.
        with store.transaction() as db:
            audit.record(db, audit.cli_actor(), "cli", "segment.export", f"segment:{args.name}",
                         {"format": args.format, "consent": args.consent, "rows": len(rows)})
    except LedgerError as exc:
        return _fail(str(exc))
    segment_export.write(rows, args.format, sys.stdout)
    return 0


def _add(args) -> int:
    from ledger import segment_book as book
    from ledger.store import LedgerError
    from program.errors import ProgramError

    try:
        body = book.body_from_text(args.name, args.rule, args.title)
    except ValueError as exc:
        return _fail(f"--rule {exc}", 2)
    from ledger import audit

    store = open_store(args)
    try:
        with store.transaction() as db:
            definition = book.add(store, body)
            audit.record(db, audit.cli_actor(), "cli", "segment.add",
                         f"segment:{definition.segment_id}", {"rule": body})
    except ProgramError as exc:
        return _fail(f"--rule: {exc}", 2)
    except LedgerError as exc:
        return _fail(str(exc))
    print(f"segment {definition.segment_id} added")
    return 0


def _remove(args) -> int:
    from ledger import audit
    from ledger import segment_book as book
    from ledger.store import LedgerError

    store = open_store(args)
    try:
        with store.transaction() as db:
            book.remove(store, args.name)
            audit.record(db, audit.cli_actor(), "cli", "segment.remove", f"segment:{args.name}")
    except LedgerError as exc:
        return _fail(str(exc))
    print(f"segment {args.name} removed")
    return 0
