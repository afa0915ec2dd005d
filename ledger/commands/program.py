"""`ledger program load FILE | check FILE | show | expire | review | new-key FILE`: the loyalty
program."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ledger.commands import add_db_option, open_store


def register(subs) -> None:
    p = subs.add_parser("program", help="the loyalty program: load, check, show, expire, review,"
                       " new-key")
    psubs = p.add_subparsers(dest="program_command", required=True, metavar="ACTION")
    load = psubs.add_parser("load", help="check a program file and make it the active version")
    add_db_option(load)
    load.add_argument("file", help="program file: TOML (.toml) or YAML (.yaml, .yml),"
                      " see docs/program.md")
    load.set_defaults(func=_load)
    check = psubs.add_parser("check", help="check a program file without loading it")
    check.add_argument("file", help="program file (.toml, .yaml or .yml)")
    check.set_defaults(func=_check)
    show = psubs.add_parser("show", help="the active program (or --version N)")
    add_db_option(show)
    show.add_argument("--version", type=int, help="an earlier version")
    show.add_argument("--json", action="store_true", help="the program body as JSON")
    show.set_defaults(func=_show)
    expire = psubs.add_parser("expire", help="journal the expiry of every member's points past"
                              " the active program's expire_after_days (also done at each op)")
    add_db_option(expire)
    expire.set_defaults(func=_expire)
    review = psubs.add_parser("review", help="review every member's tier now (also done at"
                              " each sale): moves down those whose review date and grace are"
                              " past")
    add_db_option(review)
    review.add_argument("--dry-run", action="store_true",
                        help="print what would change, write nothing")
    review.add_argument("--at", metavar="TIME", type=_time,
                        help="with --dry-run: review as at this ISO time"
                        " (2027-01-01T00:00+01:00)")
    review.set_defaults(func=_review)
    key = psubs.add_parser("new-key", help="write a new program signing key (PEM), print the"
                           " public key for the kiosks' [program] keys")
    key.add_argument("file")
    key.set_defaults(func=_new_key)


def _read(path: str) -> dict | None:
    from program.files import ProgramError, load_file

    try:
        return load_file(path)
    except ProgramError as exc:
        print(f"ledger program: {exc}", file=sys.stderr)
        return None


def _check(args) -> int:
    body = _read(args.file)
    if body is None:
        return 1
    print(f"{args.file}: program {body['name']!r} version {body['version']} is valid")
    return 0


def _load(args) -> int:
    from ledger.audit import cli_actor
    from ledger.program_versions import PublishError, save

    body = _read(args.file)
    if body is None:
        return 1
    fmt = "toml" if args.file.lower().endswith(".toml") else "yaml"
    text = Path(args.file).read_text(encoding="utf-8")  # read and checked by _read already
    try:
        save(open_store(args), body, text, fmt, cli_actor(), "cli")
    except PublishError as exc:
        print(f"ledger program: {args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"program {body['name']!r} version {body['version']} loaded; running ledgers publish"
          " it with their next batch")
    return 0


def _show(args) -> int:
    from ledger.program_text import describe
    from program.files import program_from_body

    rows = {v: (body, at) for v, body, at in open_store(args).programs()}
    if not rows:
        print("no program loaded: the default program runs (1 point per whole currency unit,"
              " reward 'coffee' for 100 points)")
        return 0
    version = args.version if args.version is not None else max(rows)
    if version not in rows:
        print(f"ledger program: no version {version} (have {sorted(rows)})", file=sys.stderr)
        return 1
    body, loaded_at = rows[version]
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    print("\n".join(describe(program_from_body(body), loaded_at, body.get("point_value_minor"),
                              body.get("automations"))))
    return 0


def _expire(args) -> int:
    from ledger.memberstate import expire_points
    from ledger.programs import ProgramBook

    store = open_store(args)
    program = ProgramBook.load(store).active
    total = members = 0
    for member in store.members():
        with store.transaction():
            points = expire_points(store, program, member.member_id)
        total, members = total + points, members + bool(points)
    print(f"{total} points expired from {members} members")
    return 0


def _time(text: str):
    from program.rules import parse_time

    at = parse_time(text)
    if at is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time (2027-01-01T00:00+01:00)")
    return at


def _review(args) -> int:
    from ledger.memberstate import review_members
    from ledger.programs import ProgramBook

    if args.at is not None and not args.dry_run:
        print("ledger program review: --at needs --dry-run (a review writes at the present time)",
              file=sys.stderr)
        return 2
    store = open_store(args)
    program = ProgramBook.load(store).active
    counts = {"members": 0, "down": 0, "up": 0, "grace": 0}
    for r in review_members(store, program, now=args.at, dry_run=args.dry_run):
        counts["members"] += 1
        counts["grace"] += r.grace_until is not None
        if r.new != r.old:
            counts["down" if program.tier_rank(r.new) < program.tier_rank(r.old) else "up"] += 1
            print(f"{r.member_id} {r.name}: {r.old} -> {r.new}")
    print(f"{counts['members']} members reviewed: {counts['down']} moved down,"
          f" {counts['up']} moved up, {counts['grace']} kept in grace"
          + ("; dry run, nothing written" if args.dry_run else ""))
    return 0


def _new_key(args) -> int:
    from codes.keys import new_private_pem

    path = Path(args.file)
    if path.exists():
        print(f"ledger program: {path} exists; not overwriting a key", file=sys.stderr)
        return 1
    pem, public = new_private_pem()
    path.write_bytes(pem)
    path.chmod(0o600)
    print(public)
    return 0
