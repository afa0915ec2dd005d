"""`ledger webhooks add|list|rotate|disable|enable|deliveries|retry|run`: signed webhooks
(docs/webhooks.md; ledger.webhooks, ledger.webhook_queue, ledger.webhook_runner)."""

from __future__ import annotations

import argparse
import re
import sys

from ledger.commands import add_db_option, open_store

ENDPOINT_RE = re.compile(r"ep_[0-9a-f]{16}")
STATES = ("pending", "delivered", "failed")


def _endpoint_id(text: str) -> str:
    if not ENDPOINT_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"endpoint id {text!r} looks like ep_ and 16 hex"
                                         " digits (see `ledger webhooks list`)")
    return text


def _endpoint_ref(text: str) -> str:
    """An endpoint's id, or its URL."""
    if text.startswith(("http://", "https://")):
        from ledger.webhooks import check_url

        try:
            return check_url(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return _endpoint_id(text)


def _delivery_id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"delivery id {text!r} must be a positive number")
    return int(text)


def _types(text: str) -> list[str]:
    from ledger.webhooks import check_types

    try:
        return list(check_types([t.strip() for t in text.split(",") if t.strip()]))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 300:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds from 0.1 to 300")
    return value


def _reason(text: str) -> str:
    if not text.strip() or len(text) > 200 or not text.isprintable():
        raise argparse.ArgumentTypeError("--reason must be printable text of 1 to 200 characters")
    return text.strip()


def register(subs) -> None:
    p = subs.add_parser("webhooks", help="signed webhooks: endpoints, deliveries, the runner")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, helptext: str, func) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=helptext)
        add_db_option(q)
        q.set_defaults(func=func)
        return q

    q = action("add", "add an endpoint; prints its id and its secret (shown once)", _add)
    q.add_argument("url", metavar="URL", help="http:// or https:// URL the events are posted to")
    q.add_argument("--events", type=_types, default=[], metavar="TYPE,TYPE",
                   help="only these event types (default: every type)")
    action("list", "the endpoints, their state and queue", _list)
    for name, helptext, func in (("rotate", "a new secret; the old one stays valid 24 h", _rotate),
                                 ("enable", "deliver to the endpoint again", _enable),
                                 ("disable", "stop delivering (the queue is kept)", _disable)):
        q = action(name, helptext, func)
        q.add_argument("endpoint", type=_endpoint_ref, metavar="ENDPOINT",
                       help="the endpoint's id (ep_...) or its URL")
        if name == "disable":
            q.add_argument("--reason", type=_reason, default="disabled by an operator")
    q = action("deliveries", "recent deliveries, newest first", _deliveries)
    q.add_argument("--endpoint", type=_endpoint_ref, default=None, metavar="ENDPOINT",
                   help="only this endpoint's (id or URL)")
    q.add_argument("--state", choices=STATES, default=None)
    q.add_argument("--limit", type=int, choices=range(1, 1001), default=50, metavar="1-1000")
    q = action("retry", "send a delivery again now, with a fresh retry schedule", _retry)
    q.add_argument("delivery", type=_delivery_id, metavar="DELIVERY")
    q = action("run", "deliver events: runs until stopped (SIGTERM)", _run)
    q.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    q.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="HTTP timeout per delivery (default 10)")
    q.add_argument("--poll", type=_seconds, default=1.0, metavar="SECONDS",
                   help="how often to look for new events (default 1)")
    q.add_argument("--workers", type=int, choices=range(1, 65), default=8, metavar="1-64",
                   help="deliveries posted at once (default 8)")


def _fail(exc: Exception) -> int:
    print(f"ledger: {exc}", file=sys.stderr)
    return 1


def _add(args) -> int:
    from ledger import webhooks
    from ledger.audit import cli_actor

    try:
        endpoint, secret = webhooks.add(open_store(args), args.url, args.events, cli_actor())
    except ValueError as exc:
        return _fail(exc)
    print(f"{endpoint.endpoint_id} {endpoint.url}")
    print(f"secret: {secret}")
    print("(the secret is shown only now: give it to the receiver to verify signatures)")
    return 0


def _list(args) -> int:
    from ledger import webhook_queue, webhooks

    store = open_store(args)
    counts = webhook_queue.counts(store)
    for e in webhooks.endpoints(store):
        state = "enabled" if e.enabled else f"disabled ({e.disabled_reason})"
        print(f"{e.endpoint_id}  {state}  {e.url}  events={','.join(e.event_types) or 'all'}"
              f"  pending={counts.get((e.endpoint_id, 'pending'), 0)}"
              f" failed={counts.get((e.endpoint_id, 'failed'), 0)}")
    return 0


def _rotate(args) -> int:
    from ledger import webhooks
    from ledger.audit import cli_actor

    try:
        store = open_store(args)
        secret = webhooks.rotate(store, webhooks.resolve(store, args.endpoint).endpoint_id,
                                 cli_actor())
    except ValueError as exc:
        return _fail(exc)
    print(f"new secret: {secret}")
    print("deliveries are signed with the old and the new secret for the next 24 hours")
    return 0


def _enable(args) -> int:
    return _set(args, True, "")


def _disable(args) -> int:
    return _set(args, False, args.reason)


def _set(args, enabled: bool, reason: str) -> int:
    from ledger import webhooks
    from ledger.audit import cli_actor

    try:
        store = open_store(args)
        e = webhooks.set_enabled(store, webhooks.resolve(store, args.endpoint).endpoint_id,
                                 enabled, reason, cli_actor())
    except ValueError as exc:
        return _fail(exc)
    print(f"{e.endpoint_id}: {'enabled' if e.enabled else 'disabled'}")
    return 0


def _deliveries(args) -> int:
    from ledger import webhook_queue, webhooks

    store = open_store(args)
    try:
        endpoint = args.endpoint and webhooks.resolve(store, args.endpoint).endpoint_id
    except ValueError as exc:
        return _fail(exc)
    for d in webhook_queue.deliveries(store, endpoint, args.state, args.limit):
        last = f"{d.last_status or '-'} {d.last_error or ''}".strip()
        print(f"{d.delivery_id:>6}  {d.state:<9} {d.type:<16} {d.endpoint_id}  attempts={d.attempts}"
              f"  next={d.next_attempt_at if d.state == 'pending' else '-'}  last={last}")
    return 0


def _retry(args) -> int:
    import datetime as dt

    from ledger import webhook_queue
    from ledger.audit import cli_actor

    try:
        d = webhook_queue.retry(open_store(args), args.delivery, dt.datetime.now(dt.UTC),
                                cli_actor())
    except ValueError as exc:
        return _fail(exc)
    print(f"delivery {d.delivery_id}: pending, due now")
    return 0


def _run(args) -> int:
    from ledger.webhook_runner import Runner

    runner = Runner(open_store(args), timeout=args.timeout, workers=args.workers)
    runner.stop_on_signals()
    try:
        runner.run(once=args.once, poll=args.poll)
    finally:
        runner.close()
    return 0
