"""Buttons, LEDs and buzzer through gpiozero; ``driver = "mock"`` uses its MockFactory.

Each device gets the pin factory explicitly, so nothing global leaks between
kiosks in one test process.
"""

from __future__ import annotations

import threading

from drivers.base import ButtonPressed, Emit

HOLD_SECONDS = 5.0

# (led, on seconds, off seconds) steps for each feedback pattern.
PATTERNS = {
    "ok": [("green", 0.15, 0.0)],
    "reading": [("green", 0.03, 0.0)],
    "error": [("red", 0.12, 0.08), ("red", 0.12, 0.0)],
    "reward": [("green", 0.08, 0.05), ("green", 0.08, 0.05), ("green", 0.2, 0.0)],
}


def pin_factory(driver: str):
    if driver == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    return None  # gpiozero picks the Pi's default factory


class GpioButtons:
    """next / select / cancel buttons; a 5 s hold of any button is a 'held' press."""

    def __init__(self, section: dict, factory=None) -> None:
        self.section = section
        self.factory = factory or pin_factory(section["driver"])
        self._buttons = []

    def start(self, emit: Emit) -> None:
        from gpiozero import Button

        for name in ("next", "select", "cancel"):
            button = Button(self.section[f"button_{name}"], hold_time=HOLD_SECONDS,
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
    """Green and red LED plus buzzer; patterns play on a background thread."""

    def __init__(self, section: dict, factory=None) -> None:
        from gpiozero import LED, Buzzer

        self.factory = factory or pin_factory(section["driver"])
        self.leds = {"green": LED(section["led_green"], pin_factory=self.factory),
                     "red": LED(section["led_red"], pin_factory=self.factory)}
        self.buzzer = Buzzer(section["buzzer"], pin_factory=self.factory)
        self._lock = threading.Lock()

    def signal(self, pattern: str) -> None:
        steps = PATTERNS.get(pattern)
        if steps is None:
            return
        threading.Thread(target=self._play, args=(steps,), daemon=True).start()

    def _play(self, steps) -> None:
        import time

        with self._lock:
            for led, on, off in steps:
                self.leds[led].on()
                self.buzzer.on()
                time.sleep(on)
                self.leds[led].off()
                self.buzzer.off()
                time.sleep(off)

    def close(self) -> None:
        for dev in (*self.leds.values(), self.buzzer):
            dev.close()
