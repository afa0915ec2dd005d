"""App wiring: config -> outbox, display, drivers, MQTT link -> one event loop.

Start-up is ordered and shutdown runs in reverse in a ``finally``. Readers,
buttons and paho's network thread only put events on one queue; the session
consumes it on a single thread, so the session logic needs no locks.
"""

from __future__ import annotations

import gc
import json
import logging
import queue
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from display.output import ScreenOutput, open_screen
from drivers import factory
from drivers.base import Buttons, Feedback, Reader
from drivers.system_clock import clock_synced
from kiosk import events as e
from kiosk import notices
from kiosk.config import Config
from kiosk.frames import LatestView
from kiosk.outbox import Outbox
from kiosk.program_cache import ProgramCache
from kiosk.returns import read_refund
from kiosk.session import Ports, Session
from mqtt import batches, messages, topics
from mqtt.client import Incoming, MqttLink, TlsOptions, Will

log = logging.getLogger(__name__)

TICK_S = 0.1
MAX_BATCH = 500


@dataclass
class Devices:
    """Drivers the app runs; tests and the demo pass simulated ones in."""

    reader: Reader | None = None
    qr: Reader | None = None
    buttons: Buttons | None = None
    feedback: Feedback | None = None
    screen: ScreenOutput | None = None


class StartupError(RuntimeError):
    """The outbox or a device could not be opened; the message says which and why."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # 2: the config is wrong, a restart cannot help (the unit's)


def _opening(what: str, open_it):
    try:
        return open_it()
    except Exception as exc:  # noqa: BLE001 - whatever a driver raises, say what failed
        log.debug("opening %s failed", what, exc_info=True)
        raise StartupError(f"cannot open {what}: {exc}", 2 if isinstance(exc, ValueError) else 1
                           ) from exc


def open_devices(cfg: Config, into: Devices) -> Devices:
    """Open the devices ``cfg`` names into ``into``, one at a time: when one fails
    (StartupError), those opened before it are in ``into`` for the caller to close."""
    into.buttons, into.feedback = _opening("the GPIO pins [gpio]",
                                           lambda: factory.open_gpio(cfg["gpio"]))
    # language, OLED care thread; a failing panel is reported and retried, not fatal
    into.screen = _opening("the display [display]", lambda: open_screen(cfg))
    into.reader = _opening(f"the card reader (reader.driver = {cfg['reader']['driver']!r})",
                           lambda: factory.open_reader(cfg["reader"]))
    into.qr = _opening(f"the QR input (qr.driver = {cfg['qr']['driver']!r})",
                       lambda: factory.open_qr(cfg["qr"]))
    return into


class KioskApp:
    def __init__(self, cfg: Config, devices: Devices | None = None) -> None:
        self.cfg = cfg
        self._opens_devices = devices is None  # else the caller (tests, demo) opened them
        self.devices = devices or Devices()
        self.events: queue.SimpleQueue = queue.SimpleQueue()  # put is reentrant: SIGTERM uses it
        self.outbox: Outbox | None = None  # run() opens it and the devices, inside its try
        self.session: Session | None = None
        self.uplink_up = True  # no bridge state seen: the ledger is as reachable as our broker
        self.topic_handlers: dict = {}  # extra topics (remote config): topic -> fn(Incoming)
        self.exit_code = 0  # run_daemon's exit status (75: restart me, see kiosk.remote_config)
        self.link = self._make_link()
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.control = None
        self.program_cache = ProgramCache(Path(cfg["outbox"]["path"]).with_name("program.json"),
                                          cfg.get("program", {}).get("keys", ()))

    def _open(self) -> None:
        """The outbox, then the devices, then the session that uses them (called in run's try)."""
        cfg = self.cfg
        self.outbox = _opening(f"the outbox {cfg['outbox']['path']}", lambda: Outbox(
            cfg["outbox"]["path"], cfg["outbox"]["max_ops"]))
        if self._opens_devices:
            open_devices(cfg, self.devices)
        self.session = self._make_session()
        self.control = self._sim_control()

    def _make_session(self) -> Session:
        screen = self.devices.screen
        feedback = self.devices.feedback
        self.frame = LatestView(self._drawing(screen.show) if screen else (lambda view: None))
        return Session(self.cfg, self.outbox, Ports(
            publish=self.link.publish,
            show=self.frame.show,
            signal=(lambda p: self.frame.after(feedback.signal, p)) if feedback
            else (lambda p: None),  # after the frame: the customer waits for the frame
            after_frame=lambda fn, *args: self.frame.after(fn, *args, first=True),
            online=self.online,
            link_state=self.link_state,
            clock_synced=clock_synced,
            display_health=(lambda: screen.health) if screen else (lambda: "none")))

    def _drawing(self, show):
        """``show`` with paho's reads held while the frame is drawn: a tap's lookup is out
        before the render, and its PUBACK and reply, read meanwhile, made paho's thread take
        Python's GIL in the middle of it (docs/benchmarks.md, kiosk section). The reply is
        handled on this thread after the frame either way."""
        def draw(view) -> None:
            with self.link.reads_held():
                show(view)
        return draw

    def _sim_control(self):
        """A control socket for simulated drivers run as a daemon (tests, demo)."""
        r = self.cfg["reader"]
        if r["driver"] != "sim" or not r["path"]:
            return None
        from drivers.sim_control import SimControl

        d = self.devices
        return SimControl(r["path"], d.reader, d.qr, d.buttons)

    def online(self) -> bool:
        """The ledger is reachable: our broker is, and its bridge to the ledger (if any) too."""
        return self.link.connected.is_set() and self.uplink_up

    def link_state(self) -> str:
        """What the technician screen says: "online", "uplink offline" (our broker is up, its
        bridge to the ledger's broker is down) or "broker offline"."""
        if not self.link.connected.is_set():
            return "broker offline"
        return "online" if self.uplink_up else "uplink offline"

    # -- MQTT -------------------------------------------------------------------------
    def _make_link(self) -> MqttLink:
        k, b = self.cfg["kiosk"], self.cfg["broker"]
        tls = TlsOptions(b["ca_file"], b["cert_file"], b["key_file"]) if b["tls"] else None
        will = Will(topics.status(k["store"], k["id"]),
                    messages.encode("status", {"v": 1, "state": "offline"}))
        link = MqttLink(host=b["host"], port=b["port"], client_id=f"kiosk-{k['store']}-{k['id']}",
                        username=b["username"], password=b["password"], tls=tls,
                        keepalive=b["keepalive"], will=will, reconnect_min=b["reconnect_min"],
                        reconnect_max=b["reconnect_max"], on_message=self._on_message,
                        on_connect=lambda present: self.events.put(e.LinkUp(present)),
                        on_disconnect=lambda why: self.events.put(e.LinkDown(why)))
        for topic in (topics.basket(k["store"], k["lane"]), topics.acks(k["store"], k["id"]),
                      topics.lookup_reply(k["store"], k["id"]),
                      topics.reserve_reply(k["store"], k["id"]), topics.PROGRAM,
                      topics.uplink(k["store"]), topics.refund(k["store"], k["lane"]),
                      topics.CAPABILITIES):
            link.subscribe(topic, 1)
        return link

    def _on_message(self, msg: Incoming) -> None:
        """paho's thread: validate and turn into an event; bad input is logged, never raised."""
        try:
            event = self._classify(msg)
        except messages.BadMessage as exc:
            log.warning("bad message on %s: %s", msg.topic, exc)
            event = self._refused_basket(msg, exc)
        except Exception as exc:  # noqa: BLE001 - paho's thread must live on whatever arrives
            log.error("message on %s not handled (%s: %s)", msg.topic, type(exc).__name__, exc)
            return
        if isinstance(event, list):  # an ack_batch: one event per ack
            for one in event:
                self.events.put(one)
        elif event is not None:
            self.events.put(event)

    def _refused_basket(self, msg: Incoming, exc: messages.BadMessage) -> e.BasketRefused | None:
        """A basket the contract refuses, but naming its basket_id: the POS will be told why."""
        k = self.cfg["kiosk"]
        if msg.topic != topics.basket(k["store"], k["lane"]):
            return None
        basket_id = notices.basket_id_of(msg.payload)
        return e.BasketRefused(basket_id, f"bad_basket: {exc}") if basket_id else None

    def _classify(self, msg: Incoming):
        k = self.cfg["kiosk"]
        if msg.topic in self.topic_handlers:
            return self.topic_handlers[msg.topic](msg)
        if msg.topic == topics.basket(k["store"], k["lane"]):
            if not msg.payload:
                return None  # retained basket cleared
            return e.BasketUpdate(messages.decode("basket", msg.payload))
        if msg.topic == topics.acks(k["store"], k["id"]):
            return self._ack_events(msg.payload)
        if msg.topic == topics.CAPABILITIES:
            return e.LedgerCapabilities(batches.batch_limit(msg.payload),
                                        batches.contract(msg.payload))
        if msg.topic == topics.refund(k["store"], k["lane"]):
            return e.RefundRequested(read_refund(msg.payload))
        if msg.topic == topics.lookup_reply(k["store"], k["id"]):
            body = messages.decode("lookup_reply", msg.payload)
            correlation = (msg.correlation or b"").decode("ascii", "replace")
            return e.LookupAnswered(correlation, body)
        if msg.topic == topics.reserve_reply(k["store"], k["id"]):
            body = messages.decode("reserve_reply", msg.payload)
            return e.ReserveAnswered((msg.correlation or b"").decode("ascii", "replace"), body)
        if msg.topic == topics.PROGRAM:
            return self._program_event(msg.payload)
        if msg.topic == topics.uplink(k["store"]):
            return self._uplink_event(msg.payload)
        log.debug("ignoring message on %s", msg.topic)
        return None

    @staticmethod
    def _ack_events(payload: bytes) -> list:
        """One ack, or an ack_batch (contract v1.2): an invalid ack in a batch is logged and
        its op sent again later, the others count."""
        acks, bad = batches.decode_acks(payload)
        for reason in bad:
            log.warning("bad ack in an ack_batch: %s", reason)
        return [e.AckReceived(ack) for ack in acks]

    def _uplink_event(self, payload: bytes):
        if payload not in (b"0", b"1"):
            raise messages.BadMessage(f"uplink: expected 0 or 1, got {payload[:20]!r}")
        up = payload == b"1"
        if up == self.uplink_up:
            return None
        self.uplink_up = up
        log.info("uplink to the ledger's broker %s", "up" if up else "down")
        return e.LinkUp(True) if up else e.LinkDown("uplink to the ledger's broker is down")

    def _program_event(self, payload: bytes):
        """A signed program from the ledger: used for previews once a [program] key checks it."""
        keys = self.cfg.get("program", {}).get("keys", ())
        if not keys:
            log.debug("program message (%d bytes) ignored: no [program] keys configured",
                      len(payload))
            return None
        if not payload:
            return None  # retained program cleared
        from program.signing import verify  # the engine is only needed once keys are set

        event = e.ProgramReceived(verify(payload, keys))
        self.program_cache.save(payload)
        return event

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Run the loop on a thread (tests, demo); ``run`` is the daemon's blocking form."""
        self._thread = threading.Thread(target=self.run, name="kiosk-session", daemon=True)
        self._thread.start()
        self.ready.wait(10)

    def stop(self) -> None:
        self.events.put(e.Stop())
        if self._thread:
            self._thread.join(15)

    def run(self) -> None:
        """Open, run until Stop, close what was opened; StartupError when opening failed."""
        d = self.devices
        started = []
        try:
            self._open()
            for dev in (d.reader, d.qr, d.buttons):
                if dev is not None:
                    dev.start(self.events.put)
                    started.append(dev)
            if self.control is not None:
                self.control.start()
                started.append(self.control)
            cached = self.program_cache.load()  # before the retained one arrives
            if cached is not None:
                self.events.put(e.ProgramReceived(cached))
            self.link.start()
            self.session.refresh()
            self.frame.flush()
            _freeze_startup_objects()
            self.ready.set()
            _sd_notify("READY=1\nSTATUS=running")
            log.info("kiosk ready (%s/%s/%s)", *(self.cfg["kiosk"][k] for k in ("store", "lane", "id")))
            self._loop()
        finally:
            self._close(started)

    def _close(self, started: list) -> None:
        """In reverse order, whatever ``_open`` got to before it returned or failed."""
        _sd_notify("STOPPING=1")
        d = self.devices
        for dev in reversed(started):
            _quietly(dev.stop)
        final = None
        if self.session is not None:
            k = self.cfg["kiosk"]
            body = messages.encode("status", self.session.status_message("offline"))
            final = (topics.status(k["store"], k["id"]), body, True)
        _quietly(lambda: self.link.stop(final=final))
        if d.feedback is not None:
            _quietly(d.feedback.close)
        if d.screen is not None:
            _quietly(d.screen.close)
        if self.outbox is not None:
            self.outbox.close()
        log.info("kiosk stopped")

    def _loop(self) -> None:
        watchdog = _watchdog()
        next_tick = time.monotonic()
        while True:
            timeout = max(0.0, next_tick - time.monotonic())
            batch = self._take_batch(timeout)
            now = time.monotonic()
            if now >= next_tick:
                batch.append(e.Tick(now))
                next_tick = now + TICK_S
            for event in batch:
                if isinstance(event, e.Stop):
                    self._drain(batch[batch.index(event) + 1:])
                    return
                self._handle(event)
            self.frame.flush()  # before the replayer's work: the customer is waiting
            self._after_batch()
            if watchdog is not None:
                watchdog.ping()

    def _take_batch(self, timeout: float) -> list:
        try:
            batch = [self.events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                break
        return batch

    def _handle(self, event: object) -> None:
        # One bad event must not stop the kiosk.
        try:
            self.session.handle(event)
        except Exception:  # noqa: BLE001
            log.exception("event %s failed", type(event).__name__)

    def _after_batch(self) -> None:
        try:
            self.session.after_batch(time.monotonic())
        except Exception:  # noqa: BLE001 - acks stay uncommitted and are resent; the loop lives
            log.exception("after a batch of events")

    def _drain(self, rest: list) -> None:
        """On stop: finish what is already queued (acks, a paid basket) before closing."""
        for event in rest:
            if not isinstance(event, e.Stop | e.Tick):
                self._handle(event)
        self.frame.flush()
        self.session.after_batch(time.monotonic())


def _freeze_startup_objects() -> None:
    """What start-up made (modules, config, program, fonts) lives as long as the kiosk: moved
    out of the collector's reach, a collection during a tap walks only what came later."""
    gc.collect()
    gc.freeze()


def _watchdog():
    try:
        from kiosk.watchdog import Watchdog
    except ImportError:
        return None
    return Watchdog.from_env()


def _sd_notify(state: str) -> None:
    try:
        from kiosk.watchdog import notify
    except ImportError:
        return
    notify(state)


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001
        log.exception("shutdown step %s failed", getattr(fn, "__qualname__", fn))


def run_daemon(cfg: Config) -> int:
    """The service's main: run until SIGTERM/SIGINT, then drain and close."""
    app = KioskApp(cfg)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.events.put(e.Stop()))
    log.info("config %s: %s", cfg.path, json.dumps(cfg.redacted()))
    if cfg["remote"]["keys"]:
        from kiosk.remote_config import RemoteConfig

        RemoteConfig(app, cfg.path).attach()
    try:
        app.run()
    except StartupError as exc:
        log.error("kiosk cannot start: %s", exc)
        return exc.exit_code
    return app.exit_code
