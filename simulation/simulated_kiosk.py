"""A kiosk with simulated hardware, in this process: for the demo, `kiosk sim`, tests, benchmarks.

The drivers are the real simulated twins (drivers.sim), gpiozero's MockFactory
pins and a luma device (dummy by default), so everything above the hardware is
the production code path.
"""

from __future__ import annotations

import tempfile
import threading
from collections import deque
from pathlib import Path

from display import views as v
from display.output import open_screen
from drivers import factory
from drivers.sim import SimReader
from kiosk.app import Devices, KioskApp
from kiosk.config import Config, validate


def sim_config(broker_port: int, workdir: str | Path | None = None, store: str = "store-1",
               lane: str = "lane-1", kiosk_id: str = "kiosk-1", **sections) -> Config:
    """A valid config for a simulated kiosk on a local broker; ``sections`` override keys."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="kiosk-"))
    data = {"kiosk": {"store": store, "lane": lane, "id": kiosk_id},
            "broker": {"host": "127.0.0.1", "port": broker_port, "reconnect_min": 0.1,
                       "reconnect_max": 2.0},
            "outbox": {"path": str(workdir / "outbox.db"), "retry_seconds": 3.0},
            "reader": {"driver": "sim"}, "qr": {"driver": "sim"},
            "display": {"driver": "dummy"}, "gpio": {"driver": "mock"}}
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return validate(data, "<sim>")


class SimulatedKiosk:
    """Start, drive (tap, scan, press) and inspect one kiosk."""

    def __init__(self, cfg: Config, display_driver: str | None = None) -> None:
        self.cfg = cfg
        self.reader = SimReader()
        self.qr = factory.open_qr(cfg["qr"])  # verifies signed codes when [qr] keys are set
        self.buttons, self.feedback = factory.open_gpio(cfg["gpio"])
        self.frames = 0
        self.views: deque[v.View] = deque(maxlen=200)  # the views drawn, newest last
        self._frame_lock = threading.Condition()
        self.screen = open_screen(cfg, on_frame=self._on_frame, driver=display_driver)
        self.app = KioskApp(cfg, Devices(self.reader, self.qr, self.buttons, self.feedback,
                                         self.screen))

    def _on_frame(self, view: v.View) -> None:
        with self._frame_lock:
            self.frames += 1
            self.views.append(view)
            self._frame_lock.notify_all()

    def start(self) -> SimulatedKiosk:
        self.app.start()
        return self

    def stop(self) -> None:
        self.app.stop()

    # -- driving ----------------------------------------------------------------------
    def tap(self, value: str, kind: str = "uid", verified: bool = False) -> None:
        self.reader.tap(value, kind, verified)

    def scan(self, text: str) -> None:
        self.qr.scan(text)

    def press(self, button: str) -> None:
        self.buttons.press(button)

    # -- looking ----------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return self.app.online()

    def screen_text(self) -> str:
        """The lines drawn on the screen, one a line: in the kiosk's language, fitted to its
        panel, exactly what the device was given (display.screens.Frame.lines)."""
        return "\n".join(self.screen.shown_lines())

    def frame(self):
        """The last frame the display device got, as a PIL image (dummy device)."""
        return getattr(self.screen.device, "image", None)

    def has_seen(self, basket: dict) -> bool:
        """The kiosk has handled this basket state (or a later one of the same basket)."""
        basket_id, seq = self.app.session.last_basket_seen
        return basket_id == basket["basket_id"] and seq >= basket["seq"]

    def outbox_depth(self) -> int:
        return self.app.outbox.depth()
