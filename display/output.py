"""Hands rendered frames to a luma device, looks after the OLED, survives a failing device.

OLED care: the panel dims after ``dim_after`` seconds without a new screen and the
idle screen moves one pixel every ``shift_every`` seconds so nothing burns in. A
device that raises OSError (an unplugged I2C cable) does not stop the kiosk: the
frame is dropped, ``health`` says why, and ``tick()`` reopens the device and
redraws, with a growing delay, until it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from display import views as v
from display.screens import Frame, draw_frame, layout

log = logging.getLogger(__name__)

# The idle screen's offsets, one step per shift: a small loop around the centre.
SHIFTS = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
RETRY_FIRST, RETRY_MAX = 2.0, 30.0


class DisplayError(RuntimeError):
    """The display cannot be opened; the message names the device and what to check."""


@dataclass(frozen=True)
class Care:
    contrast: int = 200
    dim_contrast: int = 16
    dim_after: float = 60.0  # seconds without a new screen; 0: never dim
    shift_every: float = 60.0  # seconds between idle-screen moves; 0: never move


class ScreenOutput:
    """Renders views on ``device`` (any luma device: real OLED, dummy, emulator).

    ``on_frame`` is called with the view after the frame is handed over; the
    benchmarks and the scenario runner use it. ``shown_lines()`` is the text of
    the frame the device last took, the words a customer (and a scenario) reads. ``reopen`` builds a fresh device
    (its init sequence resets a panel that lost power); ``device`` may be None
    when the panel could not be opened at start, then ``size``/``mode`` are needed.
    """

    def __init__(self, device, on_frame: Callable[[v.View], None] | None = None,
                 language: str = "en", care: Care | None = None,
                 reopen: Callable[[], object] | None = None,
                 size: tuple[int, int] | None = None, mode: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.on_frame = on_frame
        self.language = language
        self.care = care
        self.reopen = reopen
        self.clock = clock
        self._size = size or device.size
        self._mode = mode or device.mode
        self.last_view: v.View | None = None
        self.last_frame: Frame | None = None  # the one the device last took
        self.error = "" if device is not None else "display not opened yet"
        self.dimmed = False
        self.shift_index = 0
        self._activity = self._shifted_at = clock()
        self._retry_at = 0.0 if device is not None else clock()
        self._retry_delay = RETRY_FIRST
        self._lock = threading.RLock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def healthy(self) -> bool:
        return not self.error

    @property
    def health(self) -> str:
        """'ok', or 'error: <why>' for the status topic and the technician screen."""
        return "ok" if not self.error else f"error: {self.error}"[:200]  # status schema limit

    def shown_lines(self) -> list[str]:
        """The text on the panel, top to bottom: the lines of the last frame the device took
        (a failed device keeps showing its last one); [] before the first frame."""
        frame = self.last_frame
        return frame.lines() if frame is not None else []

    def show(self, view: v.View) -> None:
        with self._lock:
            if view != self.last_view:
                self._activity = self.clock()
                self.shift_index = 0
            self.last_view = view
            if self.error:
                if self.clock() >= self._retry_at:
                    self._recover()  # redraws the view on success
                return
            if self.dimmed and self._set_contrast(self._bright()):
                self.dimmed = False
            self._push()

    def tick(self) -> None:
        """Retry a failed device, dim when idle, move the idle screen; call every second."""
        with self._lock:
            now = self.clock()
            if self.error:
                if now >= self._retry_at:
                    self._recover()
                return
            care = self.care
            if care and care.dim_after and not self.dimmed and now - self._activity >= care.dim_after:
                self.dimmed = self._set_contrast(care.dim_contrast)
            if (care and care.shift_every and isinstance(self.last_view, v.Idle)
                    and now - self._shifted_at >= care.shift_every):
                self.shift_index = (self.shift_index + 1) % len(SHIFTS)
                self._shifted_at = now
                self._push()

    def _bright(self) -> int:
        return self.care.contrast if self.care else 255

    def _push(self) -> bool:
        view = self.last_view
        if view is None or self.device is None:
            return False
        shift = SHIFTS[self.shift_index] if isinstance(view, v.Idle) else (0, 0)
        frame = layout(view, self._size, self._mode, self.language, shift)
        try:
            self.device.display(draw_frame(frame))
        except OSError as exc:
            self._failed(exc)
            return False
        self.last_frame = frame
        if self.on_frame:
            self.on_frame(view)
        return True

    def _set_contrast(self, level: int) -> bool:
        if self.device is None or not hasattr(self.device, "contrast"):
            return False
        try:
            self.device.contrast(level)
        except OSError as exc:
            self._failed(exc)
            return False
        return True

    def _failed(self, exc: Exception) -> None:
        if not self.error:
            log.warning("display failed, the kiosk carries on and retries: %s"
                        " (check the panel's cable, power and bus address)", exc)
        self.error = str(exc) or type(exc).__name__
        self._retry_at = self.clock() + self._retry_delay
        self._retry_delay = min(RETRY_MAX, self._retry_delay * 2)

    def _recover(self) -> None:
        if self.reopen is not None:
            try:
                self.device = self.reopen()
            except (OSError, DisplayError) as exc:
                self._failed(exc)
                return
        was = self.error
        self.error = ""
        self.dimmed = False
        self._set_contrast(self._bright())
        if not self.error:
            self._push()
        if not self.error:
            log.info("display back after: %s", was)
            self._retry_delay = RETRY_FIRST

    # -- background ticking for the daemon ----------------------------------------------
    def start(self, interval: float = 1.0) -> ScreenOutput:
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick_loop, args=(interval,),
                                            name="display-care", daemon=True)
            self._ticker.start()
        return self

    def _tick_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.tick()
            except Exception:  # one bad frame must not end the care loop
                log.exception("display tick failed")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None


def open_device(kind: str, width: int, height: int, mode: str | None = None, rotate: int = 0,
                **options):
    """Open a luma device by config name; hardware libraries are imported lazily.

    ``mode`` ("1" or "RGB") only matters for the simulated kinds; real panels
    have their own. Options: interface (i2c|spi), i2c_port, i2c_address,
    spi_port, spi_device, spi_speed_hz, gpio_dc, gpio_rst.
    """
    if kind == "dummy":
        from luma.core.device import dummy

        return dummy(width=width, height=height, rotate=rotate, mode=mode or "1")
    if kind in ("emulator-capture", "emulator-asciiblock", "emulator-pygame"):
        import luma.emulator.device as emu

        cls = getattr(emu, kind.split("-", 1)[1])
        extra = {k: val for k, val in options.items() if k in ("file_template", "scale")}
        return cls(width=width, height=height, rotate=rotate, mode=mode or "1", **extra)
    if kind in ("ssd1306", "sh1106", "ssd1351"):
        return _open_oled(kind, width, height, rotate, options)
    raise ValueError(f"unknown display driver {kind!r}; expected dummy, emulator-capture,"
                     " emulator-asciiblock, emulator-pygame, ssd1306, sh1106 or ssd1351")


_SIZES = {"ssd1306": {(128, 64), (128, 32)}, "sh1106": {(128, 64), (128, 32)},
          "ssd1351": {(128, 128), (128, 96)}}


def _open_oled(kind: str, width: int, height: int, rotate: int, options: dict):
    interface = options.get("interface", "spi" if kind == "ssd1351" else "i2c")
    if (width, height) not in _SIZES[kind]:
        sizes = ", ".join(f"{w}x{h}" for w, h in sorted(_SIZES[kind]))
        raise DisplayError(f"display.driver {kind} does not come in {width}x{height}; sizes: {sizes}")
    if kind == "ssd1351" and interface != "spi":
        raise DisplayError("display.driver ssd1351 is an SPI panel: set display.interface = \"spi\"")
    from luma.core.error import Error as LumaError
    from luma.oled import device as oled

    try:
        serial = _serial(interface, options)
        return getattr(oled, kind)(serial, width=width, height=height, rotate=rotate)
    except LumaError as exc:  # luma's messages name the device node: keep them
        raise DisplayError(f"{kind} over {interface}: {exc}") from None
    except OSError as exc:
        raise DisplayError(f"{kind} over {interface}: {exc}; check wiring, power and"
                           f" display.{'i2c_address' if interface == 'i2c' else 'gpio_dc'}") from None


def _serial(interface: str, o: dict):
    from luma.core.interface.serial import i2c, spi

    if interface == "i2c":
        return i2c(port=o.get("i2c_port", 1), address=o.get("i2c_address", 0x3C))
    return spi(port=o.get("spi_port", 0), device=o.get("spi_device", 0),
               bus_speed_hz=o.get("spi_speed_hz", 8_000_000), gpio_DC=o.get("gpio_dc", 24),
               gpio_RST=o.get("gpio_rst", 25))


def open_screen(cfg, on_frame: Callable[[v.View], None] | None = None,
                driver: str | None = None) -> ScreenOutput:
    """The customer's screen as ``cfg`` describes it, with OLED care ticking.

    A panel that cannot be opened at start is reported and retried, not fatal."""
    d = cfg["display"]
    kind = driver or d["driver"]
    mode = "RGB" if kind == "ssd1351" or d["colour"] else "1"
    options = {k: d[k] for k in ("interface", "i2c_port", "i2c_address", "spi_port",
                                 "spi_device", "spi_speed_hz", "gpio_dc", "gpio_rst")}

    def reopen():
        return open_device(kind, d["width"], d["height"], mode, d["rotate"], **options)

    care = Care(d["contrast"], d["dim_contrast"], d["dim_after_s"], d["shift_every_s"])
    size = (d["width"], d["height"]) if d["rotate"] % 2 == 0 else (d["height"], d["width"])
    error = ""
    try:
        device = reopen()
    except (DisplayError, OSError) as exc:
        log.error("display not available, the kiosk runs without it and retries: %s", exc)
        device, error = None, str(exc)
    screen = ScreenOutput(device, on_frame, cfg["kiosk"]["language"], care, reopen, size, mode)
    if error:
        screen.error = error
    if device is not None:
        screen._set_contrast(care.contrast)
    return screen.start()
