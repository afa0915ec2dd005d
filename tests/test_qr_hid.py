"""The HID scanner path: evdev event sequences (as a scanner sends them) back into codes.

The sequences are evdev InputEvents built the way `evtest` shows a keyboard-wedge
scanner typing: MSC_SCAN, key down, SYN, key up, SYN, shift held around
capitals. A real uinput device is used where /dev/uinput exists (root, module
loaded); elsewhere that test is skipped.
"""

import os
import select

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import ReaderHealth, ReadFailed, TokenRead
from drivers.qr_hid import HidQrReader
from drivers.qr_keymap import ALTGR, KeyDecoder, keymap
from tests.qr_support import Sink, app, card, section

E = ecodes


def strokes(text: str, layout: str) -> list[tuple[int, int]]:
    """(code, value) pairs a scanner set to ``layout`` sends to type ``text`` and Enter."""
    where = {}
    for code, chars in sorted(keymap(layout).items()):  # main block (lower codes) before keypad
        for level, ch in enumerate(chars):
            where.setdefault(ch, (code, level))
    out = []
    for ch in text:
        code, level = where[ch]
        mod = {1: E.KEY_LEFTSHIFT, 2: ALTGR}.get(level)
        out += [(mod, 1)] if mod else []
        out += [(code, 1), (code, 0)]
        out += [(mod, 0)] if mod else []
    return out + [(E.KEY_ENTER, 1), (E.KEY_ENTER, 0)]


def recording(pairs, t0=1_700_000_000.0) -> list[InputEvent]:
    """Real evdev InputEvents with the MSC_SCAN and SYN_REPORT a USB keyboard adds."""
    events, t = [], t0
    for code, value in pairs:
        sec, usec = int(t), int((t % 1) * 1e6)
        events += [InputEvent(sec, usec, E.EV_MSC, E.MSC_SCAN, 0x70000 + code),
                   InputEvent(sec, usec, E.EV_KEY, code, value),
                   InputEvent(sec, usec, E.EV_SYN, E.SYN_REPORT, 0)]
        t += 0.004
    return events


def reader(layout="us") -> HidQrReader:
    return HidQrReader(section(driver="hid", device="/dev/input/event-test", layout=layout))


# A short sequence written out as evtest prints it: "Ab1." then Enter, US layout,
# with an auto-repeat event (value 2) a scanner should never send but some do.
EVTEST = [(E.EV_KEY, E.KEY_LEFTSHIFT, 1), (E.EV_KEY, E.KEY_A, 1), (E.EV_SYN, 0, 0),
          (E.EV_KEY, E.KEY_A, 0), (E.EV_KEY, E.KEY_LEFTSHIFT, 0), (E.EV_SYN, 0, 0),
          (E.EV_KEY, E.KEY_B, 1), (E.EV_KEY, E.KEY_B, 2), (E.EV_KEY, E.KEY_B, 0),
          (E.EV_KEY, E.KEY_1, 1), (E.EV_KEY, E.KEY_1, 0),
          (E.EV_KEY, E.KEY_DOT, 1), (E.EV_KEY, E.KEY_DOT, 0),
          (E.EV_KEY, E.KEY_KPENTER, 1), (E.EV_KEY, E.KEY_KPENTER, 0)]


def test_evtest_sequence():
    events = [InputEvent(1, i, t, c, v) for i, (t, c, v) in enumerate(EVTEST)]
    assert reader().feed(events) == ["Ab1."]


@pytest.mark.parametrize("layout", ["us", "de", "fr"])
def test_member_codes_typed_in_each_layout(layout):
    text = card("chen-2024") + app("bo")[:20]
    assert reader(layout).feed(recording(strokes(text, layout))) == [text]


def test_wrong_layout_gives_a_refusal_not_a_wrong_member():
    # A German-set scanner read as US: y/z swap and '.'/'-' move, so the code is refused.
    r = reader("us")
    (line,) = r.feed(recording(strokes(card("zoey"), "de")))
    ev = r.gate.check(line)
    assert isinstance(ev, ReadFailed) and ev.reason == "Not a member code"


def test_french_digits_need_shift():
    d = KeyDecoder("fr")
    assert d.feed(E.KEY_1, 1) is None and d.feed(E.KEY_1, 0) is None
    d.feed(E.KEY_LEFTSHIFT, 1)
    d.feed(E.KEY_1, 1)
    d.feed(E.KEY_LEFTSHIFT, 0)
    assert d.feed(E.KEY_ENTER, 1) == "&1"


def test_caps_lock_and_german_altgr():
    d = KeyDecoder("de")
    for code, value in [(E.KEY_CAPSLOCK, 1), (E.KEY_Y, 1), (E.KEY_CAPSLOCK, 1), (E.KEY_Y, 1),
                        (ALTGR, 1), (E.KEY_Q, 1), (ALTGR, 0), (E.KEY_ENTER, 1)]:
        line = d.feed(code, value)
    assert line == "Zz@"


def test_unmapped_key_spoils_the_line_visibly():
    d = KeyDecoder("us")
    for code in (E.KEY_A, E.KEY_F5, E.KEY_B):
        d.feed(code, 1)
    assert d.feed(E.KEY_ENTER, 1) == "a\ufffdb"


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["us", "de", "fr"]),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.-_", min_size=1, max_size=80))
def test_any_code_alphabet_text_round_trips(layout, text):
    assert reader(layout).feed(recording(strokes(text, layout))) == [text]


def test_missing_device_is_reported_and_config_error_named():
    with pytest.raises(ValueError, match="qr.device"):
        HidQrReader(section(driver="hid", device=""))
    r = HidQrReader(section(driver="hid", device="/dev/input/no-such-event"))
    sink = Sink()
    r.start(sink)
    try:
        ev = sink.next(ReaderHealth)
        assert not ev.ok and "/dev/input/no-such-event" in ev.detail
    finally:
        r.stop()


def _uinput_reason() -> str:
    if not os.path.exists("/dev/uinput"):
        return "no /dev/uinput here (needs the uinput kernel module, e.g. `modprobe uinput`)"
    if not os.access("/dev/uinput", os.W_OK):
        return "/dev/uinput is not writable (run as root or join the input group)"
    return ""


@pytest.mark.skipif(bool(_uinput_reason()), reason=_uinput_reason() or "-")
def test_real_uinput_scanner_is_grabbed_and_read():
    from evdev import InputDevice, UInput

    keys = sorted({c for c, _ in strokes(card("ada"), "us")} | {E.KEY_LEFTSHIFT})
    with UInput({E.EV_KEY: keys}, name="test qr scanner") as ui:
        r = HidQrReader(section(driver="hid", device=ui.device.path))
        sink = Sink()
        r.start(sink)
        console = InputDevice(ui.device.path)  # stands for the console reading the keyboard
        try:
            assert sink.next(ReaderHealth).ok
            for code, value in strokes(card("ada"), "us"):
                ui.write(E.EV_KEY, code, value)
                ui.syn()
            ev = sink.next()
            assert isinstance(ev, TokenRead) and ev.token.value == "ada"
            ready, _, _ = select.select([console.fd], [], [], 0.2)
            assert ready == []  # the grab kept every keystroke from the console
        finally:
            r.stop()
            console.close()
