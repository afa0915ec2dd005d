"""LEDs, buzzer and buttons on gpiozero's MockFactory pins (the real gpiozero devices on
its simulated pins): feedback patterns over time, presses, holds, pin checks."""

import threading

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from display import views as v
from drivers.base import ButtonPressed
from drivers.gpio import GpioButtons, GpioFeedback, PinConflict
from kiosk.config import SCHEMA

GPIO = {key: field.default for key, field in SCHEMA["gpio"].items()}


class Timeline:
    """Stands in for time.sleep: records the pins' states for each interval, so a pattern
    is checked step by step without waiting for it (and without timing the machine)."""

    def __init__(self, factory) -> None:
        self.factory = factory
        self.steps: list[tuple[str, float]] = []

    def state(self) -> str:
        pins = {"G": GPIO["led_green"], "R": GPIO["led_red"], "B": GPIO["buzzer"]}
        return "".join(name for name, pin in pins.items() if self.factory.pin(pin).state) or "-"

    def __call__(self, seconds: float) -> None:
        if seconds:
            self.steps.append((self.state(), seconds))


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def play(factory, pattern):
    timeline = Timeline(factory)
    feedback = GpioFeedback(GPIO, factory, sleep=timeline)
    try:
        feedback.play(pattern)
        end = timeline.state()
    finally:
        feedback.close()
    return timeline.steps, end


def test_ok_is_one_short_green_beep(factory):
    steps, end = play(factory, "ok")
    assert steps == [("GB", 0.12)] and end == "-"


def test_error_is_two_long_red_beeps(factory):
    steps, end = play(factory, "error")
    assert steps == [("RB", 0.35), ("-", 0.15), ("RB", 0.35)] and end == "-"


def test_reward_is_three_quick_green_beeps_the_last_long(factory):
    steps, end = play(factory, "reward")
    assert steps == [("GB", 0.06), ("-", 0.04), ("GB", 0.06), ("-", 0.04), ("GB", 0.25)]
    assert end == "-"


def test_reading_is_silent_and_patterns_are_told_apart_by_ear(factory):
    steps, _ = play(factory, "reading")
    assert steps == [("G", 0.03)]
    beeps = {}
    for pattern in ("ok", "error", "reward"):
        steps, _ = play(factory, pattern)
        beeps[pattern] = tuple(s for state, s in steps if "B" in state)
    assert len(set(beeps.values())) == 3, beeps


def test_signal_plays_in_the_background_on_the_real_pins(factory):
    feedback = GpioFeedback(GPIO, factory)
    try:
        buzzer = factory.pin(GPIO["buzzer"])
        feedback.signal("error")
        done = threading.Event()
        for _ in range(100):  # wait for the two beeps to have happened
            if sum(1 for s in buzzer.states if s.state) >= 2 and not buzzer.state:
                break
            done.wait(0.05)
        assert [s.state for s in buzzer.states] == [False, True, False, True, False]
    finally:
        feedback.close()


def test_signals_play_in_order_on_one_long_lived_thread(factory):
    """One player thread for the kiosk's life (a thread per tap cost the frame time), and
    patterns signalled back to back play one after another, in the order signalled."""
    timeline, players, done = Timeline(factory), set(), threading.Event()

    def sleep(seconds):
        players.add(threading.current_thread())
        timeline(seconds)
        if len(timeline.steps) == 1 + 3 + 5:
            done.set()
    feedback = GpioFeedback(GPIO, factory, sleep=sleep)
    try:
        for pattern in ("ok", "error", "reward"):
            feedback.signal(pattern)
        assert done.wait(5), timeline.steps
        assert [state for state, _ in timeline.steps] == [
            "GB", "RB", "-", "RB", "GB", "-", "GB", "-", "GB"]
        assert len(players) == 1 and next(iter(players)) is not threading.current_thread()
    finally:
        feedback.close()
    assert not any(t.is_alive() for t in players)  # close ends the player


def test_patterns_still_queued_at_close_do_not_touch_the_pins(factory):
    started, release = threading.Event(), threading.Event()

    def sleep(seconds):
        started.set()
        release.wait(5)
    feedback = GpioFeedback(GPIO, factory, sleep=sleep)
    buzzer = factory.pin(GPIO["buzzer"])
    feedback.signal("ok")
    assert started.wait(5)
    feedback.signal("error")  # queued behind "ok"
    closer = threading.Thread(target=feedback.close)
    closer.start()
    for _ in range(100):  # until close has begun (it then waits for "ok" to end)
        if feedback.closed:
            break
        threading.Event().wait(0.01)
    release.set()
    closer.join(5)
    assert not closer.is_alive()
    assert sum(1 for s in buzzer.states if s.state) == 1  # the "ok" beep only


def start_buttons(factory, hold_seconds=5.0):
    events, got = [], threading.Event()

    def emit(ev):
        events.append(ev)
        got.set()
    buttons = GpioButtons(GPIO, factory, hold_seconds=hold_seconds)
    buttons.start(emit)
    return buttons, events, got


def test_a_press_is_reported_on_release(factory):
    buttons, events, _ = start_buttons(factory)
    try:
        pin = factory.pin(GPIO["button_select"])
        pin.drive_low()
        assert events == []
        pin.drive_high()
        assert events == [ButtonPressed("select")]
    finally:
        buttons.stop()


def test_a_hold_is_one_held_event_and_no_press(factory):
    """The hold time is 5 s in service; 0.2 s here through the parameter, same code path."""
    buttons, events, got = start_buttons(factory, hold_seconds=0.2)
    try:
        pin = factory.pin(GPIO["button_cancel"])
        pin.drive_low()
        assert got.wait(10), "no held event"
        pin.drive_high()
        assert events == [ButtonPressed("cancel", held=True)]
    finally:
        buttons.stop()


def test_hold_opens_the_technician_screen_through_the_session(factory, tmp_path):
    from kiosk.outbox import Outbox
    from kiosk.session import Ports, Session
    from simulation.simulated_kiosk import sim_config

    shown = []
    outbox = Outbox(str(tmp_path / "outbox.db"), 100)
    session = Session(sim_config(1883, tmp_path), outbox, Ports(publish=lambda *a, **k: True,
                                                                show=shown.append))
    buttons, events, got = start_buttons(factory, hold_seconds=0.2)
    try:
        pin = factory.pin(GPIO["button_next"])
        pin.drive_low()
        assert got.wait(10)
        pin.drive_high()
        for ev in events:
            session.handle(ev)
        assert isinstance(shown[-1], v.Technician) and shown[-1].kiosk_id == "kiosk-1"
        got.clear()
        pin.drive_low()
        pin.drive_high()
        session.handle(events[-1])
        assert isinstance(shown[-1], v.Idle), "a short press leaves the technician screen"
    finally:
        buttons.stop()
        outbox.close()


@pytest.mark.parametrize("change, words", [
    ({"led_red": 17}, "led_green and led_red are all on BCM pin 17"),
    ({"buzzer": 2}, "buzzer = 2 is the I2C SDA pin"),
])
def test_pins_are_checked_at_start(factory, change, words):
    with pytest.raises(PinConflict, match=words):
        GpioButtons({**GPIO, **change}, factory)
    with pytest.raises(PinConflict, match=words):
        GpioFeedback({**GPIO, **change}, factory)
