"""Scripted scenarios: private brokers (the shop's, bridged to the ledger's), a ledger process,
the POS simulator and a simulated kiosk, driven line by line, stopping at the first unmet
expectation. POS steps wait until the kiosk has seen the basket, as a cashier's pace would.
``expect screen`` reads the lines drawn on the kiosk's panel (display.screens.Frame.lines), in
the kiosk's language and cut or wrapped as the panel shows them.

One step per line (``#`` starts a comment)::

    member Ada card=04A1B2C3D4E5F6 balance=120   # seed the ledger (also uid=, card-number=)
    open coffee:2:350:drinks cake:1:420          # the POS opens a basket (sku:qty:unit_minor[:category])
    tap 04A1B2C3D4E5F6                           # a card on the reader (kind=ndef|sun|uid)
    qr TEXT                                      # a code shown to the scanner
    press next|select|cancel    hold select      # buttons (hold = 5 s long press)
    total | pay | void                           # the POS moves the basket on
    network down | network up                    # cut / restore the shop's uplink (central broker)
    ledger down | ledger up                      # kill -9 / restart the ledger
    wait 0.5
    expect screen "Points added" [within 5]      # text drawn on the customer's screen
    expect outbox 0 [within 10]                  # ops queued on the kiosk
    expect balance 04A1B2C3D4E5F6 127 [within 10]  # the ledger's balance of a card or member id
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mqtt import topics
from mqtt.client import MqttLink
from simulation.local_broker import Mosquitto, bridge_conf, stop_process
from simulation.pos import PosSimulator, parse_item
from simulation.simulated_kiosk import SimulatedKiosk, sim_config

DEFAULT_WITHIN = 10.0


class ScenarioFailed(AssertionError):
    """An expectation was not met or a step was malformed; the message says which line."""


class LedgerProcess:
    """`ledger serve` as a child process; ``kill()`` is kill -9."""

    def __init__(self, db: Path | str, broker: Mosquitto, log_path: Path,
                 worker: str = "main", serve_args: tuple[str, ...] = (),
                 module: str = "ledger.cli") -> None:
        self.db, self.broker, self.log_path, self.worker = db, broker, log_path, worker
        self.serve_args = serve_args  # e.g. ("--no-batches",): a ledger of contract v1.0
        self.module = module  # a benchmark may run a variant of the ledger's entry point
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "ledger.cli", *args, "--db", str(self.db)],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise ScenarioFailed(f"ledger {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def start(self, timeout: float = 20.0) -> None:
        # The simulation's codes are signed with the public demo key: the ledger checks them.
        from codes.member_qr import DEMO_PUBLIC_KEY

        keys = Path(self.log_path).with_name("proof-keys.toml")
        keys.write_text(f'[qr]\nkeys = ["{DEMO_PUBLIC_KEY}"]\n', encoding="utf-8")
        log = open(self.log_path, "ab")
        ready_before = self.log_path.read_bytes().count(b"ledger ready")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--db", str(self.db),
             "--host", self.broker.host, "--port", str(self.broker.port),
             "--worker", self.worker, "--proof-keys", str(keys), *self.serve_args],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_path.read_bytes().count(b"ledger ready") > ready_before:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise ScenarioFailed(f"ledger did not start: {self.log_path.read_text()[-1500:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def balance(self, who: str) -> int | None:
        out = subprocess.run([sys.executable, "-m", "ledger.cli", "balance", who, "--db",
                              str(self.db), "--json"], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            return None
        return int(json.loads(out.stdout)["balance"])


class World:
    """Everything a scenario runs against, in one temporary directory.

    Two brokers, as in a shop: the store broker the kiosk and the POS share, bridged to the
    central broker the ledger uses. ``broker`` is the central one: stopping it cuts the shop's
    uplink (the kiosk goes offline for the ledger but still sees the POS).
    """

    def __init__(self, workdir: Path, store: str = "store-1") -> None:
        self.workdir = workdir
        self.broker = Mosquitto(workdir / "central")
        self.store_broker = Mosquitto(workdir / "store",
                                      extra_conf=bridge_conf(store, "127.0.0.1", self.broker.port))
        self.ledger = LedgerProcess(workdir / "ledger.db", self.broker, workdir / "ledger.log")
        self.cfg = sim_config(self.store_broker.port, workdir / "kiosk", store=store)
        self.kiosk: SimulatedKiosk | None = None
        self.pos: PosSimulator | None = None

    def start_brokers(self) -> None:
        self.broker.start()
        self.store_broker.start()
        store = self.cfg["kiosk"]["store"]
        if not wait_retained(self.store_broker, topics.uplink(store), b"1", 15):
            raise ScenarioFailed("the store broker's bridge to the central broker did not come up")

    def start(self) -> None:
        self.start_brokers()
        self.ledger.cli("members")  # creates the database
        self.ledger.start()
        self.start_kiosk()
        self.start_pos()

    def start_pos(self) -> None:
        k = self.cfg["kiosk"]
        self.pos = PosSimulator(host=self.store_broker.host, port=self.store_broker.port,
                                store=k["store"], lane=k["lane"]).start()

    def start_kiosk(self) -> None:
        self.kiosk = SimulatedKiosk(self.cfg).start()
        wait_for(lambda: self.kiosk.online or not self.broker.proc, 10)

    def stop(self) -> None:
        for step in (lambda: self.pos and self.pos.stop(), lambda: self.kiosk and self.kiosk.stop(),
                     self.ledger.stop, self.store_broker.stop, self.broker.stop):
            try:
                step()
            except Exception:  # noqa: BLE001 - tear down as much as possible
                pass


def wait_retained(broker: Mosquitto, topic: str, payload: bytes, within: float) -> bool:
    """Wait until ``topic`` holds the retained ``payload`` on ``broker``."""
    seen = threading.Event()
    link = MqttLink(host=broker.host, port=broker.port, client_id=f"probe-{os.getpid()}",
                    clean_start=True,
                    on_message=lambda m: seen.set() if m.payload == payload else seen.clear())
    link.subscribe(topic, 1)
    link.start()
    try:
        return seen.wait(within)
    finally:
        link.stop()


def reads(text: str) -> str:
    """Text as a person reads it: any case, lines run on, so a sentence the panel wrapped
    over two lines still matches."""
    return " ".join(text.split()).lower()


def wait_for(check: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


class Runner:
    def __init__(self, world: World, echo: Callable[[str], None] = lambda s: None) -> None:
        self.w = world
        self.echo = echo

    def run(self, lines: list[str], name: str = "<scenario>") -> None:
        for number, raw in enumerate(lines, 1):
            words = shlex.split(raw, comments=True)
            if not words:
                continue
            self.echo(f"{name}:{number}: {raw.strip()}")
            try:
                self.step(words)
            except ScenarioFailed as exc:
                raise ScenarioFailed(f"{name} line {number} ({raw.strip()}): {exc}") from None
            except (ValueError, IndexError, KeyError) as exc:
                raise ScenarioFailed(f"{name} line {number} ({raw.strip()}): bad step: {exc}") from None

    def step(self, words: list[str]) -> None:
        verb, args = words[0], words[1:]
        handler = getattr(self, "do_" + verb.replace("-", "_"), None)
        if handler is None:
            raise ScenarioFailed(f"unknown step {verb!r}")
        handler(args)

    # -- set-up and actions --------------------------------------------------------------
    def do_member(self, args: list[str]) -> None:
        opts = dict(a.split("=", 1) for a in args[1:])
        cli = ["members", "add", "--name", args[0]]
        for key in ("card", "uid", "card-number", "id", "balance"):
            if key in opts:
                cli += [f"--{key}", opts[key]]
        self.w.ledger.cli(*cli)

    def do_open(self, args: list[str]) -> None:
        self._till(self.w.pos.open([parse_item(a) for a in args]))

    def do_total(self, args: list[str]) -> None:
        self._till(self.w.pos.total())

    def do_pay(self, args: list[str]) -> None:
        self._till(self.w.pos.pay())

    def do_void(self, args: list[str]) -> None:
        self._till(self.w.pos.void())

    def _till(self, basket: dict) -> None:
        """Steps run at machine speed; a cashier does not. Wait until the kiosk has the basket
        before the next step, so a tap meant for this basket does not overtake it."""
        if not wait_for(lambda: self.w.kiosk.has_seen(basket), 5.0):
            self.echo(f"  (kiosk has not seen basket {basket['basket_id']} seq {basket['seq']})")

    def do_tap(self, args: list[str]) -> None:
        opts = dict(a.split("=", 1) for a in args[1:])
        kind = opts.get("kind", "uid")
        self.w.kiosk.tap(args[0], kind, verified=kind != "uid")

    def do_qr(self, args: list[str]) -> None:
        self.w.kiosk.scan(args[0])

    def do_press(self, args: list[str]) -> None:
        self.w.kiosk.press(args[0])

    def do_hold(self, args: list[str]) -> None:
        from drivers.base import ButtonPressed

        self.w.kiosk.app.events.put(ButtonPressed(args[0], held=True))

    def do_network(self, args: list[str]) -> None:
        if args[0] == "down":
            self.w.broker.stop()
        elif args[0] == "up":
            self.w.broker.start()
        else:
            raise ValueError("network takes 'down' or 'up'")

    def do_ledger(self, args: list[str]) -> None:
        if args[0] == "down":
            self.w.ledger.kill()
        elif args[0] == "up":
            self.w.ledger.start()
        else:
            raise ValueError("ledger takes 'down' or 'up'")

    def do_wait(self, args: list[str]) -> None:
        time.sleep(float(args[0]))

    # -- expectations ------------------------------------------------------------------
    def do_expect(self, args: list[str]) -> None:
        within = DEFAULT_WITHIN
        if len(args) >= 2 and args[-2] == "within":
            within, args = float(args[-1]), args[:-2]
        what, rest = args[0], args[1:]
        if what == "screen":
            text = reads(rest[0])
            if not wait_for(lambda: text in reads(self.w.kiosk.screen_text()), within):
                raise ScenarioFailed(f"screen shows {self.w.kiosk.screen_text()!r},"
                                     f" not {rest[0]!r}")
        elif what == "outbox":
            n = int(rest[0])
            if not wait_for(lambda: self.w.kiosk.outbox_depth() == n, within):
                raise ScenarioFailed(f"outbox holds {self.w.kiosk.outbox_depth()} ops, not {n}")
        elif what == "balance":
            who, n = rest[0], int(rest[1])
            if not wait_for(lambda: self.w.ledger.balance(who) == n, within):
                raise ScenarioFailed(f"ledger balance of {who} is {self.w.ledger.balance(who)},"
                                     f" not {n}")
        else:
            raise ScenarioFailed(f"cannot expect {what!r} (screen, outbox, balance)")


def run_file(path: str | Path, echo: Callable[[str], None] = lambda s: None) -> None:
    """Run one scenario file in a fresh world; raises ScenarioFailed on the first miss."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory(prefix="scenario-") as tmp:
        world = World(Path(tmp))
        try:
            world.start()
            Runner(world, echo).run(lines, path.name)
        finally:
            world.stop()
            if os.environ.get("KIOSK_SCENARIO_KEEP"):
                echo(f"kept logs: {tmp}")
