"""`make demo`: the whole product on one laptop, driven from the keyboard.

A private Mosquitto on a free port, a ledger on a fresh SQLite file with demo
members, the POS simulator and the kiosk with simulated hardware; the 128x64
OLED is drawn in the terminal by luma.emulator's asciiblock device.
Without a terminal (CI, a pipe) it plays a short scripted tour instead.
"""

from __future__ import annotations

import logging
import os
import random
import select
import sys
import tempfile
import termios
import tty
from pathlib import Path

from simulation.scenario import LedgerProcess, Runner, World

CARDS = [("Ada", "04A1B2C3D4E5F6", 240), ("Bo", "04B0B0B0B0B0B0", 80),
         ("Chen", "04C4C4C4C4C4C4", 1200)]  # member ids are the names in lower case
UNKNOWN_CARD = "04DEADBEEF0001"
MENU = [("coffee", 350, "drinks"), ("tea", 300, "drinks"), ("cake", 420, "food"),
        ("sandwich", 650, "food"), ("beans-250g", 899, "retail")]

HELP = ("[1-3] tap Ada/Bo/Chen  [4] tap new card  [g] QR code  [n/s/c] next/select/cancel"
        "  [h] hold (technician)\n[o] open basket  [t] total  [p] pay  [v] void  "
        "[x] cut uplink  [r] restore  [k] kill ledger  [l] ledger up  [q] quit")


def seed(ledger: LedgerProcess) -> None:
    for name, card, balance in CARDS:
        ledger.cli("members", "add", "--name", name, "--card", card, "--balance", str(balance),
                   "--id", name.lower())


def random_items() -> list[dict]:
    picks = random.sample(MENU, k=random.randint(1, 3))
    return [{"sku": s, "qty": random.randint(1, 2), "unit_minor": p, "category": c}
            for s, p, c in picks]


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.world = World(workdir)
        self.world.cfg["display"]["driver"] = "emulator-asciiblock"
        from codes import member_qr as qrcodes

        self.world.cfg["qr"]["keys"] = [qrcodes.DEMO_PUBLIC_KEY]  # the demo's codes are signed
        self.last = "ready"

    def start(self, display: str) -> None:
        w = self.world
        w.start_brokers()
        w.ledger.cli("members")
        seed(w.ledger)
        w.ledger.start()
        from simulation.simulated_kiosk import SimulatedKiosk

        w.kiosk = SimulatedKiosk(w.cfg, display_driver=display).start()
        w.start_pos()

    def key(self, ch: str) -> bool:
        """Act on one key; False to quit."""
        w = self.world
        actions = {
            "1": lambda: w.kiosk.tap(CARDS[0][1]), "2": lambda: w.kiosk.tap(CARDS[1][1]),
            "3": lambda: w.kiosk.tap(CARDS[2][1]), "4": lambda: w.kiosk.tap(UNKNOWN_CARD),
            "g": self.show_qr,
            "n": lambda: w.kiosk.press("next"), "s": lambda: w.kiosk.press("select"),
            "c": lambda: w.kiosk.press("cancel"),
            "h": lambda: Runner(w).step(["hold", "select"]),
            "o": lambda: w.pos.open(random_items()), "t": w.pos.total, "p": w.pos.pay,
            "v": w.pos.void, "x": w.broker.stop, "r": w.broker.start,
            "k": w.ledger.kill, "l": w.ledger.start,
        }
        if ch in ("q", "\x1b", "\x03"):
            return False
        action = actions.get(ch)
        if action is not None:
            try:
                action()
                self.last = f"key {ch!r}"
            except Exception as exc:  # noqa: BLE001 - a demo key must never end the demo
                self.last = f"key {ch!r} failed: {exc}"
        return True

    def show_qr(self) -> None:
        """Show Ada's member-app code (signed with the public demo key) to the scanner."""
        from codes import member_qr as qrcodes

        self.world.kiosk.scan(qrcodes.demo_code(CARDS[0][0].lower()))

    def status_line(self) -> str:
        w = self.world
        broker = "up" if w.broker.proc else "CUT"
        ledger = "up" if w.ledger.proc else "DOWN"
        link = "online" if w.kiosk.online else "offline"
        return (f"uplink {broker} | ledger {ledger} | kiosk {link} | outbox "
                f"{w.kiosk.outbox_depth()} | {self.last}")

    def stop(self) -> None:
        self.world.stop()


def interactive(demo: Demo) -> None:
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        sys.stdout.write("\x1b[2J")
        while True:
            rows = os.get_terminal_size().lines
            sys.stdout.write(f"\x1b[{min(rows - 3, 34)};1H\x1b[0m\x1b[J")
            sys.stdout.write(demo.status_line()[:200] + "\n" + HELP + "\n")
            sys.stdout.flush()
            ready, _, _ = select.select([sys.stdin], [], [], 0.5)
            if ready and not demo.key(sys.stdin.read(1)):
                return
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\x1b[0m\x1b[2J\x1b[H")


TOUR = """
open coffee:2:350:drinks cake:1:420:food
tap 04A1B2C3D4E5F6
expect screen Ada
total
pay
expect screen "Points added"
expect balance 04A1B2C3D4E5F6 251
network down
open tea:1:300:drinks
tap 04B0B0B0B0B0B0
total
pay
expect screen "Points saved"
expect outbox 1
network up
expect outbox 0 within 20
expect balance 04B0B0B0B0B0B0 83
"""


def tour(demo: Demo) -> None:
    """Headless: the same world, a short scripted sale online and one offline."""
    from codes import member_qr as qrcodes

    runner = Runner(demo.world, echo=lambda s: print(s, flush=True))
    qr_sale = ["open tea:1:300:drinks", f"qr {qrcodes.demo_code('ada')}", "expect screen Ada",
               "pay", "expect balance ada 254"]  # Ada's member-app code instead of her card
    runner.run(TOUR.strip().splitlines() + qr_sale, "demo tour")
    print("demo tour OK: screens, ledger balances and the outbox behaved as expected")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    logging.basicConfig(filename=workdir / "demo.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    is_tty = sys.stdin.isatty() and sys.stdout.isatty()
    demo = Demo(workdir)
    print(f"demo files and logs in {workdir}", flush=True)
    try:
        demo.start("emulator-asciiblock" if is_tty else "dummy")
        if is_tty:
            interactive(demo)
        else:
            tour(demo)
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
