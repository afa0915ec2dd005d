"""`kiosk config check FILE` and `kiosk config example`."""

from __future__ import annotations

import sys


def register(subs) -> None:
    p = subs.add_parser("config", help="check a config file or print an example")
    sub = p.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate FILE and exit non-zero on the first error")
    check.add_argument("file")
    check.set_defaults(func=_check)
    ex = sub.add_parser("example", help="print a complete, commented example config")
    ex.set_defaults(func=_example)


def _check(args) -> int:
    from kiosk.config import ConfigError, load

    try:
        load(args.file)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: OK")
    return 0


def _example(args) -> int:
    from kiosk.config import example

    print(example())
    return 0
