"""Hands rendered frames to a luma device and survives a device that fails."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from display import views as v
from display.screens import render

log = logging.getLogger(__name__)


class ScreenOutput:
    """Renders views on ``device`` (any luma device: real OLED, dummy, emulator).

    ``on_frame`` is called with the view after the frame is handed over; the
    benchmarks and the scenario runner use it.
    """

    def __init__(self, device, on_frame: Callable[[v.View], None] | None = None) -> None:
        self.device = device
        self.last_view: v.View | None = None
        self.healthy = True
        self.on_frame = on_frame
        self._retry_at = 0.0

    @property
    def size(self) -> tuple[int, int]:
        return self.device.size

    def show(self, view: v.View) -> None:
        self.last_view = view
        if not self.healthy and time.monotonic() < self._retry_at:
            return
        image = render(view, self.device.size, self.device.mode)
        try:
            self.device.display(image)
        except OSError as exc:
            if self.healthy:
                log.warning("display failed, will retry: %s", exc)
            self.healthy = False
            self._retry_at = time.monotonic() + 2.0
            return
        if not self.healthy:
            log.info("display back")
        self.healthy = True
        if self.on_frame:
            self.on_frame(view)


def open_device(kind: str, width: int, height: int, **options):
    """Open a luma device by config name; hardware libraries are imported lazily."""
    if kind == "dummy":
        from luma.core.device import dummy

        return dummy(width=width, height=height, mode="1")
    if kind in ("emulator-capture", "emulator-asciiblock", "emulator-pygame"):
        import luma.emulator.device as emu

        cls = getattr(emu, kind.split("-", 1)[1])
        return cls(width=width, height=height, mode="1", **options)
    if kind in ("ssd1306", "sh1106"):
        from luma.core.interface.serial import i2c
        from luma.oled import device as oled

        serial = i2c(port=options.get("i2c_port", 1), address=options.get("i2c_address", 0x3C))
        return getattr(oled, kind)(serial, width=width, height=height)
    raise ValueError(f"unknown display driver {kind!r}")
