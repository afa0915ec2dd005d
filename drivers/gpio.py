"""Buttons, LEDs and buzzer through gpiozero; ``driver = "mock"`` uses its MockFactory.

Each device gets the pin factory explicitly, so nothing global leaks between
kiosks in one test process. Pins are checked at start: two devices on one pin
is a wiring mistake, named before anything is switched on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from drivers.base import ButtonPressed, Emit

log = logging.getLogger(__name__)

HOLD_SECONDS = 5.0
PIN_KEYS = ("button_next", "button_select", "button_cancel", "led_green", "led_red", "buzzer")
# Pins a panel or the Pi's buses already use; an LED there would fight the bus.
BUS_PINS = {2: "I2C SDA", 3: "I2C SCL", 7: "SPI CE1", 8: "SPI CE0", 9: "SPI MISO",
            10: "SPI MOSI", 11: "SPI SCLK"}

# (led, on seconds, off seconds, beep) steps for each feedback pattern. The buzzer
# patterns differ in count and length so they are told apart without looking:
# ok one short beep, error two long low-rate beeps, reward three rising quick ones.
PATTERNS = {
    "ok": [("green", 0.12, 0.0, True)],
    "reading": [("green", 0.03, 0.0, False)],  # light only: "ok" follows a moment later
    "error": [("red", 0.35, 0.15, True), ("red", 0.35, 0.0, True)],
    "reward": [("green", 0.06, 0.04, True), ("green", 0.06, 0.04, True),
               ("green", 0.25, 0.0, True)],
}


class PinConflict(ValueError):
    """Two GPIO devices on one pin, or a device on a bus pin; names the keys."""


def check_pins(section: dict) -> None:
    """Raise PinConflict naming the [gpio] keys that share a pin or sit on a bus pin."""
    by_pin: dict[int, list[str]] = {}
    for key in PIN_KEYS:
        by_pin.setdefault(section[key], []).append(key)
    for pin, keys in sorted(by_pin.items()):
        if len(keys) > 1:
            raise PinConflict(f"[gpio] {' and '.join(keys)} are all on BCM pin {pin};"
                              " each device needs its own pin")
        if pin in BUS_PINS:
            raise PinConflict(f"[gpio] {keys[0]} = {pin} is the {BUS_PINS[pin]} pin of the"
                              " display bus; pick another BCM pin")


def pin_factory(driver: str):
    if driver == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    return None  # gpiozero picks the Pi's default factory


class GpioButtons:
    """next / select / cancel buttons; a hold of any button (5 s) is a 'held' press."""

    def __init__(self, section: dict, factory=None, hold_seconds: float = HOLD_SECONDS) -> None:
        check_pins(section)
        self.section = section
        self.factory = factory or pin_factory(section["driver"])
        self.hold_seconds = hold_seconds
        self._buttons = []

    def start(self, emit: Emit) -> None:
        from gpiozero import Button

        for name in ("next", "select", "cancel"):
            button = Button(self.section[f"button_{name}"], hold_time=self.hold_seconds,
                            pin_factory=self.factory)
            held = {"flag": False}
            button.when_held = self._on_held(emit, name, held)
            button.when_released = self._on_released(emit, name, held)
            self._buttons.append(button)

    @staticmethod
    def _on_held(emit: Emit, name: str, held: dict):
        def handler():
            held["flag"] = True
            emit(ButtonPressed(name, held=True))
        return handler

    @staticmethod
    def _on_released(emit: Emit, name: str, held: dict):
        # A press counts on release, so a long hold is not also a short press.
        def handler():
            if not held["flag"]:
                emit(ButtonPressed(name))
            held["flag"] = False
        return handler

    def stop(self) -> None:
        for button in self._buttons:
            button.close()
        self._buttons.clear()

    def press(self, name: str) -> None:
        """Simulated press and release (mock factory only)."""
        pin = self.factory.pin(self.section[f"button_{name}"])
        pin.drive_low()
        pin.drive_high()


class GpioFeedback:
    """Green and red LED plus buzzer; ``signal`` queues a pattern for one long-lived thread.

    One thread for the kiosk's life, not one per pattern: starting a thread on every tap cost
    the session thread a few hundred microseconds before the frame was drawn (the kiosk
    section of docs/benchmarks.md), and patterns play in the order they were signalled.
    """

    def __init__(self, section: dict, factory=None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from gpiozero import LED, Buzzer

        check_pins(section)
        self.factory = factory or pin_factory(section["driver"])
        self.leds = {"green": LED(section["led_green"], pin_factory=self.factory),
                     "red": LED(section["led_red"], pin_factory=self.factory)}
        self.buzzer = Buzzer(section["buzzer"], pin_factory=self.factory)
        self.sleep = sleep
        self._lock = threading.Lock()
        self._closed = False
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._player, name="gpio-feedback", daemon=True)
        self._thread.start()

    def signal(self, pattern: str) -> None:
        """Play ``pattern`` after those signalled before it; returns at once."""
        if pattern in PATTERNS and not self._closed:
            self._queue.put(pattern)

    def _player(self) -> None:
        while (pattern := self._queue.get()) is not None:
            try:
                self.play(pattern)
            except Exception:  # noqa: BLE001 - a pin that fails once must not end the feedback
                log.exception("feedback pattern %s failed", pattern)

    def play(self, pattern: str) -> None:
        """Play ``pattern`` now, in this thread; patterns never interleave."""
        with self._lock:
            if self._closed:
                return  # the kiosk is shutting down: a pattern queued before must not touch pins
            for led, on, off, beep in PATTERNS[pattern]:
                self.leds[led].on()
                if beep:
                    self.buzzer.on()
                self.sleep(on)
                self.leds[led].off()
                self.buzzer.off()
                self.sleep(off)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True  # first: no pattern still queued starts once the playing one ends
        with self._lock:  # waits for a pattern that is playing
            for dev in (*self.leds.values(), self.buzzer):
                dev.close()
        self._queue.put(None)  # the player drops what is still queued and ends
        self._thread.join(timeout=5)
