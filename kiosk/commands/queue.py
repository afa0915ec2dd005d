"""`kiosk queue`: list, count or export the durable outbox (safe while the daemon runs)."""

from __future__ import annotations

import json
import sys


def register(subs) -> None:
    p = subs.add_parser("queue", help="list, count or export queued ops")
    p.add_argument("action", nargs="?", default="list", choices=("list", "count", "export", "rejected"))
    p.add_argument("--config", default=None, help="config file (for outbox.path)")
    p.add_argument("--db", default=None, help="outbox file (overrides the config)")
    p.set_defaults(func=_queue)


def _outbox_path(args) -> str:
    if args.db:
        return args.db
    from kiosk.config import DEFAULT_PATH, load

    return load(args.config or DEFAULT_PATH)["outbox"]["path"]


def _queue(args) -> int:
    from pathlib import Path

    from kiosk.config import ConfigError
    from kiosk.outbox import Outbox

    try:
        path = _outbox_path(args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if not Path(path).exists():
        print(f"no outbox at {path}", file=sys.stderr)
        return 1
    box = Outbox(path)
    try:
        if args.action == "count":
            stats = box.stats()
            age = "-" if stats.oldest_age_s is None else f"{stats.oldest_age_s:.0f}s"
            print(f"{stats.depth} queued, oldest {age}, {stats.rejected} rejected")
        elif args.action == "export":
            for op in box.pending(limit=10**9):
                print(json.dumps(op.message(), separators=(",", ":")))
        elif args.action == "rejected":
            for row in box.rejected():
                print(json.dumps(row, separators=(",", ":")))
        else:
            for op in box.pending(limit=10**9):
                b = op.body
                print(f"{op.kiosk_seq:>6} {op.op_id} {b['kind']:<5} basket={b.get('basket_id', '-')}"
                      f" earn={b.get('earn', 0)} redeem={sum(r['points'] for r in b.get('redeem', []))}"
                      f" created={b['created_at']}")
    finally:
        box.close()
    return 0
