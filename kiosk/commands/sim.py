"""`kiosk sim --scenario FILE`: play a scripted scenario headless."""

from __future__ import annotations

import sys


def register(subs) -> None:
    p = subs.add_parser("sim", help="play scripted scenarios against a simulated kiosk")
    p.add_argument("--scenario", action="append", required=True, metavar="FILE",
                   help="scenario file (repeatable); see tests/scenarios/")
    p.add_argument("-q", "--quiet", action="store_true", help="do not echo steps")
    p.set_defaults(func=_sim)


def _sim(args) -> int:
    from simulation.scenario import ScenarioFailed, run_file

    echo = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    for path in args.scenario:
        try:
            run_file(path, echo)
        except ScenarioFailed as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"cannot run scenario {path}: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: OK")
    return 0
