"""The screen output on luma's dummy device: OLED care (dim, idle shift, contrast, rotation)
and a panel that fails with OSError (unplugged I2C) without stopping the kiosk.

A fake clock drives ``tick()`` so no test sleeps through a minute of idling.
"""

import logging
import threading

import pytest
from luma.core.device import dummy

from display import views as v
from display.output import Care, DisplayError, ScreenOutput, open_device, open_screen
from display.screens import render
from simulation.simulated_kiosk import sim_config

IDLE = v.Idle("Bean There")
MEMBER = v.MemberRecognised("Ada", 240, "Gold")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingDummy(dummy):
    """luma's dummy device, also keeping the contrast levels sent (the dummy's serial
    interface is a no-op, so the level is otherwise invisible)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.levels: list[int] = []

    def contrast(self, level: int) -> None:
        super().contrast(level)
        self.levels.append(level)


class UnpluggedDummy(RecordingDummy):
    """A dummy that fails like an SSD1306 whose I2C cable came loose: luma's i2c interface
    raises OSError (errno 121, Remote I/O error) from smbus2 on every write. There is no
    panel on this machine to unplug, so the failure is raised here instead."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.unplugged = False
        self.attempts = 0

    def _check(self) -> None:
        self.attempts += 1
        if self.unplugged:
            raise OSError(121, "Remote I/O error")

    def display(self, image) -> None:
        self._check()
        super().display(image)

    def contrast(self, level: int) -> None:
        self._check()
        super().contrast(level)


CARE = Care(contrast=200, dim_contrast=16, dim_after=60, shift_every=30)


def output(device, clock, **kw):
    return ScreenOutput(device, care=CARE, clock=clock, **kw)


def test_dims_after_inactivity_and_brightens_on_the_next_screen():
    clock, device = Clock(), RecordingDummy(width=128, height=64, mode="1")
    screen = output(device, clock)
    screen.show(IDLE)
    clock.now += 59
    screen.tick()
    assert device.levels == [] and not screen.dimmed
    screen.show(IDLE)  # the same screen again is not activity
    clock.now += 1
    screen.tick()
    assert device.levels == [16] and screen.dimmed
    screen.show(MEMBER)
    assert device.levels == [16, 200] and not screen.dimmed
    assert device.image == render(MEMBER)


def test_idle_screen_moves_a_pixel_and_other_screens_stay_put():
    clock, device = Clock(), RecordingDummy(width=128, height=64, mode="1")
    screen = output(device, clock)
    screen.show(IDLE)
    first = device.image.getbbox()
    clock.now += 30
    screen.tick()
    moved = device.image.getbbox()
    assert (moved[0] - first[0], moved[1] - first[1]) == (1, 0)
    clock.now += 30
    screen.tick()
    assert device.image.getbbox()[:2] == (first[0] + 1, first[1] + 1)
    screen.show(MEMBER)
    clock.now += 30
    screen.tick()
    assert device.image == render(MEMBER)


def test_unplugged_panel_keeps_the_kiosk_running_retries_and_reports(caplog):
    clock, device = Clock(), UnpluggedDummy(width=128, height=64, mode="1")
    frames = []
    screen = output(device, clock, on_frame=frames.append)
    screen.show(IDLE)
    device.unplugged = True
    with caplog.at_level(logging.WARNING):
        screen.show(MEMBER)  # must not raise
    assert screen.health == "error: [Errno 121] Remote I/O error"
    assert "display failed" in caplog.text and frames == [IDLE]
    assert screen.shown_lines() == ["Bean There", "Tap your card"], "the frame the panel took"
    tries = device.attempts
    clock.now += 1
    screen.tick()
    screen.show(v.Reading())
    assert device.attempts == tries, "no retry before the delay is over"
    clock.now += 1
    screen.tick()
    assert device.attempts > tries and not screen.healthy, "retried, still unplugged"
    device.unplugged = False
    clock.now += 2  # not yet: the delay doubled to 4 s
    screen.tick()
    assert not screen.healthy
    clock.now += 2
    with caplog.at_level(logging.INFO):
        screen.tick()
    assert screen.health == "ok" and "display back" in caplog.text
    assert device.image == render(v.Reading()), "the newest screen is redrawn"
    assert screen.shown_lines() == ["Reading card…", "Hold still"]
    assert device.levels[-1] == 200, "contrast restored: a re-powered panel forgets it"


def test_panel_missing_at_start_is_reported_not_fatal(tmp_path):
    cfg = sim_config(1883, tmp_path, display={"driver": "ssd1306", "i2c_port": 20})
    screen = open_screen(cfg)
    try:
        assert screen.device is None
        assert "/dev/i2c-20" in screen.health
        screen.show(IDLE)  # the session keeps calling show: nothing raises
        screen.tick()
        assert not screen.healthy
    finally:
        screen.close()


def test_config_picks_language_rotation_contrast_and_colour(tmp_path):
    cfg = sim_config(1883, tmp_path, kiosk={"language": "hi"},
                     display={"driver": "dummy", "rotate": 1, "height": 128, "colour": True,
                              "contrast": 90})
    screen = open_screen(cfg)
    try:
        screen.show(IDLE)
        assert screen.size == (128, 128) and screen.device.image.mode == "RGB"
        assert screen.device.image == render(IDLE, (128, 128), "RGB", "hi").rotate(-90)
    finally:
        screen.close()


def test_care_thread_dims_an_idle_panel(tmp_path):
    cfg = sim_config(1883, tmp_path, display={"dim_after_s": 0.05, "shift_every_s": 0})
    screen = open_screen(cfg)
    try:
        screen.show(IDLE)
        done = threading.Event()
        for _ in range(50):
            if screen.dimmed:
                done.set()
                break
            done.wait(0.1)
        assert screen.dimmed
    finally:
        screen.close()


@pytest.mark.parametrize("kind, size, options, words", [
    ("ssd1351", (128, 128), {"interface": "i2c"}, "SPI panel"),
    ("ssd1306", (128, 128), {}, "128x32, 128x64"),
    ("st9999", (128, 64), {}, "unknown display driver 'st9999'"),
])
def test_bad_display_settings_are_named(kind, size, options, words):
    with pytest.raises((DisplayError, ValueError), match=words):
        open_device(kind, *size, **options)
