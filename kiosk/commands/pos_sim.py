"""`kiosk pos-sim`: a POS simulator for one lane, scripted from the command line or stdin.

    kiosk pos-sim --port 1883 "open coffee:2:350:drinks cake:1:420" total pay
    echo "open tea:1:300" | kiosk pos-sim --port 1883

Steps: ``open ITEM...`` (ITEM is sku:qty:unit_minor[:category]), ``total``, ``pay``, ``void``,
``wait SECONDS``. A later run carries on with the lane's retained basket.
"""

from __future__ import annotations

import json
import shlex
import sys
import time

from mqtt.topics import id_arg


def register(subs) -> None:
    p = subs.add_parser("pos-sim", help="simulate the lane's POS (basket open/total/pay/void)")
    p.add_argument("--host", default="localhost", help="MQTT broker host")
    p.add_argument("--port", type=int, default=1883, help="MQTT broker port")
    p.add_argument("--store", type=id_arg, default="store-1", help="store id")
    p.add_argument("--lane", type=id_arg, default="lane-1", help="lane id")
    p.add_argument("--currency", default="EUR", help="ISO 4217 currency of new baskets")
    p.add_argument("steps", nargs="*", help='steps, e.g. "open coffee:1:350" total pay')
    p.set_defaults(func=_pos_sim)


def step(pos, words: list[str]) -> dict | None:
    """Carry out one step; raises ValueError with a message naming what was wrong."""
    from simulation.pos import parse_item

    verb, args = words[0], words[1:]
    if verb == "open":
        if not args:
            raise ValueError("open needs at least one item sku:qty:unit_minor[:category]")
        return pos.open([parse_item(a) for a in args])
    if verb in ("total", "pay", "void"):
        return getattr(pos, verb)()
    if verb == "wait":
        time.sleep(float(args[0]))
        return None
    raise ValueError(f"unknown step {verb!r} (open, total, pay, void, wait)")


def _pos_sim(args) -> int:
    from mqtt.messages import BadMessage
    from simulation.pos import PosSimulator

    pos = PosSimulator(host=args.host, port=args.port, store=args.store, lane=args.lane,
                       currency=args.currency, client_id=f"pos-sim-{time.monotonic_ns() % 10**9}")
    try:
        pos.start()
    except ConnectionError as exc:
        print(f"pos-sim: {exc} ({args.host}:{args.port})", file=sys.stderr)
        return 2
    lines = args.steps or (line for line in sys.stdin)
    status = 0
    try:
        pos.wait_for_basket(1.0)  # the retained basket, if the lane has one
        for line in lines:
            words = shlex.split(line)
            if not words:
                continue
            try:
                basket = step(pos, words)
            except (ValueError, IndexError, BadMessage, RuntimeError, ConnectionError) as exc:
                print(f"pos-sim: {line.strip()}: {exc}", file=sys.stderr)
                status = 1
                continue
            if basket is not None:
                print(json.dumps(basket), flush=True)
        time.sleep(0.3)  # let the kiosk's answers (member, redemption) arrive before leaving
    finally:
        pos.stop()
    return status
