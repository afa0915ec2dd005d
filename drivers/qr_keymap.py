"""Key events from a HID "keyboard wedge" scanner back into text, for the layout it types in.

A scanner set to a German layout sends the key *positions* a German keyboard
would need for each character, so the same code arrives as different keycodes
per layout. Each layout maps an evdev key name to (plain, shift, altgr)
characters. Dead keys are taken as their plain character (scanners do not
compose). Only what a scanner sends is covered: printable ASCII and a few
national letters.
"""

from __future__ import annotations

from evdev import ecodes

_LETTERS = "abcdefghijklmnopqrstuvwxyz"

_US = {
    "GRAVE": "`~", "1": "1!", "2": "2@", "3": "3#", "4": "4$", "5": "5%", "6": "6^", "7": "7&",
    "8": "8*", "9": "9(", "0": "0)", "MINUS": "-_", "EQUAL": "=+", "LEFTBRACE": "[{",
    "RIGHTBRACE": "]}", "BACKSLASH": "\\|", "SEMICOLON": ";:", "APOSTROPHE": "'\"",
    "COMMA": ",<", "DOT": ".>", "SLASH": "/?", "SPACE": "  ",
    **{c.upper(): c + c.upper() for c in _LETTERS},
}

_DE = {
    **{c.upper(): c + c.upper() for c in _LETTERS}, "Y": "zZ", "Z": "yY",
    "GRAVE": "^°", "1": "1!", "2": "2\"²", "3": "3§³", "4": "4$", "5": "5%", "6": "6&",
    "7": "7/{", "8": "8([", "9": "9)]", "0": "0=}", "MINUS": "ß?\\", "EQUAL": "´`",
    "Q": "qQ@", "E": "eE€", "LEFTBRACE": "üÜ", "RIGHTBRACE": "+*~", "SEMICOLON": "öÖ",
    "APOSTROPHE": "äÄ", "BACKSLASH": "#'", "102ND": "<>|", "COMMA": ",;", "DOT": ".:",
    "SLASH": "-_", "SPACE": "  ",
}

_FR = {
    **{c.upper(): c + c.upper() for c in _LETTERS},
    "Q": "aA", "W": "zZ", "A": "qQ", "Z": "wW", "SEMICOLON": "mM", "M": ",?",
    "GRAVE": "²", "1": "&1", "2": "é2~", "3": "\"3#", "4": "'4{", "5": "(5[", "6": "-6|",
    "7": "è7`", "8": "_8\\", "9": "ç9^", "0": "à0@", "MINUS": ")°]", "EQUAL": "=+}",
    "LEFTBRACE": "^¨", "RIGHTBRACE": "$£¤", "APOSTROPHE": "ù%", "BACKSLASH": "*µ",
    "102ND": "<>", "COMMA": ";.", "DOT": ":/", "SLASH": "!§", "SPACE": "  ",
}

_KEYPAD = {"KP0": "0", "KP1": "1", "KP2": "2", "KP3": "3", "KP4": "4", "KP5": "5", "KP6": "6",
           "KP7": "7", "KP8": "8", "KP9": "9", "KPDOT": ".", "KPMINUS": "-", "KPPLUS": "+",
           "KPASTERISK": "*", "KPSLASH": "/"}

LAYOUTS = {"us": _US, "de": _DE, "fr": _FR}
SHIFTS = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
ALTGR = ecodes.KEY_RIGHTALT
ENTERS = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER}


def keymap(layout: str) -> dict[int, str]:
    """evdev keycode -> (plain, shift, altgr) characters for ``layout``."""
    if layout not in LAYOUTS:
        raise ValueError(f"keyboard layout {layout!r} unknown; one of {', '.join(LAYOUTS)}")
    table = {**LAYOUTS[layout], **{k: v * 2 for k, v in _KEYPAD.items()}}
    return {getattr(ecodes, "KEY_" + name): chars for name, chars in table.items()}


class KeyDecoder:
    """Feed EV_KEY events; get a line of text back when the scanner presses Enter."""

    def __init__(self, layout: str = "us", max_len: int = 4096) -> None:
        self.map = keymap(layout)
        self.max_len = max_len
        self.shift: set[int] = set()
        self.altgr = False
        self.caps = False
        self.buf: list[str] = []

    def feed(self, code: int, value: int) -> str | None:
        """One key event (value 1 down, 0 up, 2 repeat); a finished line on Enter."""
        if code in SHIFTS:
            (self.shift.add if value else self.shift.discard)(code)
        elif code == ALTGR:
            self.altgr = bool(value)
        elif value != 1:
            return None  # releases and auto-repeat carry no characters
        elif code == ecodes.KEY_CAPSLOCK:
            self.caps = not self.caps
        elif code in ENTERS:
            return self._line()
        else:
            self._char(code)
        return None

    def _char(self, code: int) -> None:
        chars = self.map.get(code)
        index = 2 if self.altgr else 1 if self.shift else 0
        if chars is None or index >= len(chars):
            ch = "\ufffd"  # kept, so the gate refuses the line instead of reading a wrong code
        else:
            ch = chars[index]
            if self.caps and ch.isalpha() and index < 2:
                ch = ch.swapcase()
        if len(self.buf) <= self.max_len:
            self.buf.append(ch)

    def _line(self) -> str | None:
        line, self.buf = "".join(self.buf), []
        return line or None
