"""`ledger automations list|preview|run|enable|disable|reset|sends`: the messages the ledger
sends by itself (docs/automations.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from ledger.commands import add_db_option, open_store

ACTIONS = ("enable", "disable", "reset")


def _when(text: str) -> dt.datetime:
    """--now: an ISO date or time (UTC when it names no zone)."""
    from program.engine import parse_time

    at = parse_time(text)
    if at is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO time like 2027-03-01T09:00Z")
    return at.astimezone(dt.UTC)


def _name(text: str) -> str:
    from program.automations import NAMES

    if text not in NAMES:
        raise argparse.ArgumentTypeError(f"{text!r} is not an automation; one of {', '.join(NAMES)}")
    return text


def _sample(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1000")
    return int(text)


def register(subs) -> None:
    p = subs.add_parser("automations", help="welcome, win-back, birthday... messages: list, run")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = sub.add_parser("list", help="every automation: on or off, channels, cap, sends so far")
    add_db_option(a)
    a.set_defaults(func=_list)
    a = sub.add_parser("preview", help="who would get the automation now (nothing sent)")
    add_db_option(a)
    a.add_argument("name", metavar="NAME", type=_name)
    a.add_argument("--now", type=_when, help="as if it were this time (ISO; default: now)")
    a.add_argument("--sample", type=_sample, default=10, help="members to show (default 10)")
    a.set_defaults(func=_preview)
    a = sub.add_parser("run", help="send what is due (idempotent: run it from a timer)")
    add_db_option(a)
    a.add_argument("--now", type=_when, help="as if it were this time (ISO; default: now)")
    a.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")
    a.add_argument("--only", type=_name, metavar="NAME", help="run this automation only")
    a.add_argument("--smtp-config", default=os.environ.get("LEDGER_SMTP_CONFIG"),
                   help="a TOML file with an [smtp] table (env LEDGER_SMTP_CONFIG)")
    a.set_defaults(func=_run)
    for action in ACTIONS:
        a = sub.add_parser(action, help=f"{action} an automation over the program file"
                           if action != "reset" else "follow the program file again")
        add_db_option(a)
        a.add_argument("name", metavar="NAME", type=_name)
        a.set_defaults(func=_switch)
    a = sub.add_parser("sends", help="the latest sends, newest first")
    add_db_option(a)
    a.add_argument("--automation", type=_name, metavar="NAME")
    a.add_argument("--limit", type=_sample, default=20)
    a.set_defaults(func=_sends)


def _fail(message: str, status: int = 1) -> int:
    print(f"ledger: {message}", file=sys.stderr)
    return status


def _list(args) -> int:
    from ledger.automations import sends, settings
    from program.errors import ProgramError

    store = open_store(args)
    try:
        _, found = settings.active(store)
    except ProgramError as exc:
        return _fail(f"the active program's automations: {exc}")
    flipped, counted = settings.switches(store), sends.counts(store)
    for name, a in found.items():
        state = "on " if a.enabled else "off"
        why = f" (switched by {flipped[name].actor})" if name in flipped else ""
        cap = f"{a.cap_count} per {a.cap_days} days" if a.cap_days else "once per occasion"
        params = " ".join(f"{k}={v}" for k, v in a.params.items())
        done = ", ".join(f"{counted[(name, s)]} {s}" for s in (sends.SENT, sends.FAILED,
                                                              sends.SENDING) if (name, s) in counted)
        print(f"{name:<17} {state}{why} channels={','.join(a.channels)} cap: {cap}"
              f"{' ' + params if params else ''}; {done or 'nothing sent'}")
    return 0


def _preview(args) -> int:
    from collections import Counter

    from ledger.automations import settings
    from ledger.automations.plan import plan

    store = open_store(args)
    program, found = settings.active(store)
    now = args.now or dt.datetime.now(dt.UTC)
    items = plan(store, program, found[args.name], now)
    due = [i for i in items if i.channels]
    state = "" if found[args.name].enabled else " (disabled: `run` skips it)"
    print(f"{args.name} at {now.isoformat(timespec='seconds')}: {len(due)} would get it{state}")
    for reason, n in sorted(Counter(i.reason for i in items if not i.channels).items()):
        print(f"  not sent, {reason}: {n}")
    for i in due[: args.sample]:
        print(f"  {i.occasion.member_id}  {i.contact.name}  {i.occasion.key}"
              f"  by {','.join(i.channels)}")
    return 0


def _run(args) -> int:
    from ledger.automations import mailer, runner, settings

    try:
        smtp = None if args.dry_run else mailer.load(args.smtp_config)
    except mailer.MailConfigError as exc:
        return _fail(str(exc), 2)
    store = open_store(args)
    program, found = settings.active(store)
    now = args.now or dt.datetime.now(dt.UTC)
    if args.dry_run:
        return _dry_run(store, program, found, now, args.only)
    try:
        outcome = runner.run(store, program, found, now, smtp, args.only)
    except runner.NoMailer as exc:
        return _fail(str(exc), 2)
    for name, counts in outcome.counts.items():
        print(f"{name}: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    if not outcome.counts:
        print("nothing due")
    return 1 if any(c.get("failed") for c in outcome.counts.values()) else 0


def _dry_run(store, program, found, now, only) -> int:
    from ledger.automations.plan import plan

    for name, a in found.items():
        if a.enabled and only in (None, name):
            items = plan(store, program, a, now)
            print(f"{name}: {sum(1 for i in items if i.channels)} would be sent"
                  f" ({len(items)} occasions)")
    return 0


def _switch(args) -> int:
    from ledger.audit import cli_actor
    from ledger.automations import settings

    store = open_store(args)
    enabled = {"enable": True, "disable": False, "reset": None}[args.action]
    settings.switch(store, args.name, enabled, cli_actor(), "cli")
    _, found = settings.active(store)
    print(f"{args.name}: {'on' if found[args.name].enabled else 'off'}"
          f"{' (as the program file says)' if enabled is None else ''}")
    return 0


def _sends(args) -> int:
    from ledger.automations import sends

    for s in sends.recent(open_store(args), args.automation, args.limit):
        print(f"{s.created_at[:19]}  {s.automation:<17} {s.member_id}  {s.occasion}  {s.state}"
              f"  {','.join(s.channels)}{'  ' + s.error if s.error else ''}")
    return 0
