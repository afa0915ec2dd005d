"""`kiosk readers` (list the card readers found) and `kiosk readers test` (wait for a tap)."""

from __future__ import annotations

import queue
import sys
import time


def register(subs) -> None:
    p = subs.add_parser("readers", help="list card readers, or test one with a tap")
    p.add_argument("--tty", action="store_true", help="also probe serial ports (PN532 in HSU mode)")
    p.set_defaults(func=_list)
    sub = p.add_subparsers(dest="action")
    t = sub.add_parser("test", help="wait for a tap and print what was read and how long it took")
    t.add_argument("--config", default=None, help="config file whose [reader] to use")
    t.add_argument("--driver", choices=("nfcpy", "pcsc"), help="override reader.driver")
    t.add_argument("--path", help="override reader.path (nfcpy path or PC/SC reader name)")
    t.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    t.add_argument("--taps", type=int, default=1, help="wait for this many taps")
    t.set_defaults(func=_test)


def _list(args) -> int:
    from drivers.discover import nfcpy_readers, pcsc_readers

    found = nfcpy_readers(args.tty) + pcsc_readers()
    usable = [r for r in found if r.usable]
    for r in found:
        mark = "ok  " if r.usable else "--  "
        note = f"  ({r.note})" if r.note else ""
        print(f"{mark}{r.driver:6} {r.path or '-':32} {r.description}{note}")
    if not usable:
        print("no usable reader found; see docs/readers.md", file=sys.stderr)
    return 0 if usable else 1


def _section(args) -> dict | None:
    from kiosk.config import ConfigError, load, validate

    try:
        cfg = load(args.config) if args.config else validate({"kiosk": {
            "store": "test", "lane": "test", "id": "test"}})
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return None
    section = dict(cfg["reader"])
    if args.config is None:
        section["sun_counter_file"] = ""  # a bench test must not touch the kiosk's counters
        print("no --config: SUN read counters are kept in memory for this test only (a replayed"
              " card is refused only within this run; the kiosk's counter file is neither read"
              " nor written)", flush=True)
    section["driver"] = args.driver or section["driver"]
    section["path"] = args.path if args.path is not None else section["path"]
    if section["driver"] not in ("nfcpy", "pcsc"):
        print("choose a real reader: --driver nfcpy|pcsc or reader.driver in the config",
              file=sys.stderr)
        return None
    return section


def _test(args) -> int:
    from drivers.factory import open_reader

    section = _section(args)
    if section is None:
        return 2
    try:
        reader = open_reader(section)
    except (ImportError, ValueError, OSError) as exc:
        print(f"cannot open reader: {exc}", file=sys.stderr)
        return 2
    events: queue.Queue = queue.Queue()
    reader.start(events.put)
    try:
        return _wait_taps(events, args.taps, args.timeout)
    finally:
        reader.stop()


def _wait_taps(events: queue.Queue, taps: int, timeout: float) -> int:
    from drivers.base import CardDetected, CardRemoved, ReaderHealth, ReadFailed, TokenRead

    end = time.monotonic() + timeout
    print("waiting for a card...", flush=True)
    detected = None
    while taps > 0:
        try:
            ev = events.get(timeout=max(0.0, end - time.monotonic()))
        except queue.Empty:
            print("no card read before the timeout", file=sys.stderr)
            return 1
        if isinstance(ev, ReaderHealth):
            print(f"reader {ev.reader}: {'ready' if ev.ok else 'NOT READY'} {ev.detail}", flush=True)
        elif isinstance(ev, CardDetected):
            detected = ev.at
        elif isinstance(ev, TokenRead):
            t = ev.token
            took = f"{(t.at - detected) * 1000:.1f} ms" if detected else "?"
            print(f"read {t.kind} {t.value} ({'verified' if t.verified else 'unverified'})"
                  f" in {took} after detection", flush=True)
            taps -= 1
        elif isinstance(ev, ReadFailed):
            print(f"read failed: {ev.reason}", flush=True)
        elif isinstance(ev, CardRemoved):
            print("card removed", flush=True)
    return 0
