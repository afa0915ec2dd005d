"""`kiosk doctor`: check config, clock, disk, outbox, broker, ledger and hardware."""

from __future__ import annotations


def register(subs) -> None:
    p = subs.add_parser("doctor", help="self-test: one OK/WARN/FAIL line per check;"
                        " exit 0 all OK, 1 warnings, 2 a failure")
    p.add_argument("--config", default=None, help="config file (default /etc/kiosk/kiosk.toml)")
    p.add_argument("--offline", action="store_true", help="skip the broker and ledger checks")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from kiosk.config import DEFAULT_PATH, ConfigError, load
    from kiosk.doctor import FAIL, OK, Result, run_checks, verdict

    path = args.config or DEFAULT_PATH
    try:
        cfg = load(path)
    except ConfigError as exc:
        print(Result(FAIL, "config", str(exc), "fix it (kiosk config example shows every key)").line())
        return 2
    results = [Result(OK, "config", f"{path} valid")] + run_checks(cfg, skip_network=args.offline)
    for r in results:
        print(r.line(), flush=True)
    return verdict(results)
