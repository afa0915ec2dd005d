"""`kiosk tap|present|remove|scan|press`: drive a running simulated kiosk (`kiosk run` with
``[reader] driver = "sim"``) through its control socket, as a customer at the counter would.

    kiosk tap 04A1B2C3D4E5F6 --config kiosk.toml
    kiosk scan 'lk1.m.ada...' --config kiosk.toml
    kiosk press select --config kiosk.toml

Exit status 2, with the reason on stderr, when the value is invalid or no simulated kiosk runs
with that config.
"""

from __future__ import annotations

import sys

HELP = {
    "tap": "tap a card on a simulated kiosk's reader (present, then remove)",
    "present": "put a card on a simulated kiosk's reader and hold it there",
    "remove": "lift the card off a simulated kiosk's reader",
    "scan": "show a code to a simulated kiosk's QR scanner",
    "press": "press a simulated kiosk's button (next, select, cancel)",
}


def register(subs) -> None:
    for verb in ("tap", "present", "remove", "scan", "press"):
        p = subs.add_parser(verb, help=HELP[verb])
        p.add_argument(
            "--config",
            default=None,
            help="config file of the running kiosk (default /etc/kiosk/kiosk.toml)",
        )
        if verb in ("tap", "present"):
            p.add_argument("card", help="card UID in hex (kind uid or sun) or card number (ndef)")
            p.add_argument("--kind", default="uid", help="uid (default), ndef or sun")
        elif verb == "scan":
            p.add_argument("text", help="the code's text (quote it)")
        elif verb == "press":
            p.add_argument("button", help="next, select or cancel")
        p.set_defaults(func=_drive, verb=verb)


def _value(args) -> str:
    return (
        getattr(args, "card", None)
        or getattr(args, "text", None)
        or getattr(args, "button", None)
        or ""
    )


def control_path(cfg) -> str:
    """The control socket of the kiosk ``cfg`` describes; raises ValueError when it has none."""
    reader = cfg["reader"]
    if reader["driver"] != "sim" or not reader["path"]:
        raise ValueError(
            f'{cfg.path}: not a simulated kiosk: it needs [reader] driver = "sim" '
            'and path = a control socket (e.g. "/tmp/kiosk-control.sock")'
        )
    return reader["path"]


def _drive(args) -> int:
    from drivers.sim_control import BadCommand, NoSimulatedKiosk, make, send
    from kiosk.config import DEFAULT_PATH, ConfigError, load

    try:
        cmd = make(args.verb, _value(args), getattr(args, "kind", "uid"))
        cfg = load(args.config or DEFAULT_PATH)
        path = control_path(cfg)
        if cmd.verb == "press" and cfg["gpio"]["driver"] != "mock":
            raise ValueError(
                f"{cfg.path}: [gpio] driver is {cfg['gpio']['driver']!r}: "
                'press the real button (simulated presses need driver = "mock")'
            )
        send(path, cmd)
    except (BadCommand, ConfigError, ValueError, NoSimulatedKiosk) as exc:
        print(f"kiosk {args.verb}: {exc}", file=sys.stderr)
        return 2
    return 0
