"""The ``[reader]`` and ``[qr]`` sections of the kiosk config, and the schema's field type.

They are declared here, beside the drivers that read them, because drivers may
not import the kiosk: kiosk.config puts them into its ``SCHEMA`` and validates
them, and a driver built without the kiosk (tests, benchmarks, `kiosk readers`)
takes its missing keys from ``with_defaults``. No driver holds a default of its
own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from codes.card_numbers import DEFAULT_PATTERN, compile_pattern

ID_RE = re.compile(r"^[a-z0-9-]{1,32}$")


@dataclass(frozen=True)
class Field:
    """One config key: its type, default, limits and the help the example config shows."""

    type: type | tuple[type, ...]
    default: Any = None  # None with required=True means the user must set it
    help: str = ""
    required: bool = False
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: re.Pattern | None = None
    secret: bool = False
    example: Any = None
    check: Callable[[Any], object] | None = None  # raises ValueError saying what is wrong

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        names = self.type if isinstance(self.type, tuple) else (self.type,)
        text = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in names)
        if self.pattern is not None:
            text += f" matching {self.pattern.pattern}"
        if self.min is not None or self.max is not None:
            text += f" in [{self.min if self.min is not None else ''}..{self.max if self.max is not None else ''}]"
        return text


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
}

IDF = dict(type=str, pattern=ID_RE)


def HEX_KEY(size: int) -> re.Pattern:  # noqa: N802 - reads like a type in the schema
    """Empty, or exactly ``size`` bytes in hex."""
    return re.compile(rf"^([0-9A-Fa-f]{{{2 * size}}})?$")


READER: dict[str, Field] = {
    "driver": Field(str, "sim", choices=("sim", "nfcpy", "pcsc", "none"), help="Card reader."),
    "path": Field(
        str,
        "",
        help="nfcpy path (usb:..., tty:AMA0:pn532, udp:host:port) or PC/SC reader name"
        " (empty: nfcpy the first USB reader, PC/SC the first reader).",
    ),
    "poll_ms": Field(int, 200, min=20, max=2000, help="How often the reader looks for a card."),
    "debounce_ms": Field(
        int,
        800,
        min=0,
        max=10000,
        help="The same card back within this long after leaving is the same tap.",
    ),
    "nfc_targets": Field(
        str,
        "106A,212F",
        pattern=re.compile(r"^(106A|106B|212F|424F)(,(106A|106B|212F|424F))*$"),
        help="nfcpy: technologies polled (106A ISO 14443A, 106B, 212F/424F FeliCa).",
    ),
    "accept_plain_uid": Field(
        bool, True, help="Accept cards that give only a UID (marked unverified)."
    ),
    "ndef_card_param": Field(str, "c", help="URI query parameter holding the card number."),
    "ndef_sig_param": Field(str, "s", help="URI query parameter holding the card's signature."),
    "ndef_public_key": Field(
        str,
        "",
        pattern=HEX_KEY(32),
        help="Program's Ed25519 public key (64 hex digits) for signed cards.",
    ),
    "ndef_card_from_path": Field(bool, False, help="A URI without the card parameter may carry"
                                 " the card number as a path segment (see card_number_pattern)."),
    "card_number_pattern": Field(str, DEFAULT_PATTERN, check=compile_pattern,
                                 help="Regular expression a card number must match (it can only"
                                      " narrow the rule: 4-32 of A-Z a-z 0-9 -)."),
    "ndef_require_signature": Field(bool, False, help="Refuse NDEF cards that are not signed."),
    "sun_meta_key": Field(
        str,
        "",
        pattern=HEX_KEY(16),
        secret=True,
        help="NTAG 424 DNA SUN: SDM meta-read key (32 hex digits).",
    ),
    "sun_file_key": Field(
        str,
        "",
        pattern=HEX_KEY(16),
        secret=True,
        help="NTAG 424 DNA SUN: SDM file-read key, or master key with sun_diversify.",
    ),
    "sun_diversify": Field(
        bool, False, help="SUN file-read key is per card (AN10922 from the master key)."
    ),
    "sun_system_id": Field(
        str,
        "",
        pattern=re.compile(r"^([0-9A-Fa-f]{2}){0,21}$"),
        help="SUN key diversification system identifier (hex).",
    ),
    "sun_picc_param": Field(str, "picc_data", help="SUN URL parameter with encrypted PICCData."),
    "sun_mac_param": Field(str, "cmac", help="SUN URL parameter with the SDMMAC."),
    "sun_uid_param": Field(str, "uid", help="SUN URL parameter with the plain UID mirror."),
    "sun_ctr_param": Field(
        str, "ctr", help="SUN URL parameter with the plain read counter mirror."
    ),
    "sun_counter_file": Field(
        str,
        "/var/lib/kiosk/sun-counters.json",
        help='Last SUN read counter per card, kept across restarts ("": memory only).',
    ),
}

QR: dict[str, Field] = {
    "driver": Field(
        str, "sim", choices=("sim", "camera", "hid", "serial", "none"), help="QR input."
    ),
    "device": Field(
        str,
        "",
        help="evdev path (/dev/input/by-id/...), serial port, or camera:"
        " index, /dev/videoN or a video file (empty: the first camera; serial: /dev/ttyACM0).",
    ),
    "program": Field(**IDF, default="loyalty", help="Program id member codes must carry."),
    "keys": Field(
        list,
        (),
        example=[],
        help="The ledger's QR public keys, base64url"
        " (`ledger qr --new-key FILE` prints one); empty refuses every code.",
    ),
    "period": Field(int, 30, min=5, max=600, help="App codes rotate every this many seconds."),
    "grace": Field(
        int, 30, min=0, max=600, help="An app code stays valid this long after its period."
    ),
    "skew": Field(int, 15, min=0, max=600, help="Accept codes this early (clock differences), s."),
    "cards": Field(bool, True, help="Accept printed-card (static) codes."),
    "url_prefix": Field(str, "", help="Codes may come wrapped in this link (the app's URL)."),
    "fps": Field((int, float), 4, min=0.2, max=30, help="Camera frames decoded per second."),
    "resolution": Field(str, "640x480", choices=("640x480", "1280x720"), help="Camera frame size."),
    "layout": Field(
        str, "us", choices=("us", "de", "fr"), help="Keyboard layout a HID scanner types in."
    ),
    "baud": Field(
        int,
        9600,
        choices=(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200),
        help="Serial scanner speed.",
    ),
}


def with_defaults(section: Mapping, fields: Mapping[str, Field]) -> dict:
    """``section`` with the schema's default for each key it lacks (a validated one lacks none)."""
    return {**{key: f.default for key, f in fields.items()}, **section}
