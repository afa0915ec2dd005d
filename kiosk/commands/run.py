"""`kiosk run`: the daemon."""

from __future__ import annotations

import sys


def register(subs) -> None:
    p = subs.add_parser("run", help="run the kiosk daemon")
    p.add_argument("--config", default=None, help="config file (default /etc/kiosk/kiosk.toml)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from kiosk.app import run_daemon
    from kiosk.config import DEFAULT_PATH, ConfigError, load
    from kiosk.remote_config import load_effective

    path = args.config or DEFAULT_PATH
    try:
        cfg = load_effective(path, load(path))  # with a signed remote update on top, if any
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    return run_daemon(cfg)
