"""Signed member QR codes: the format, signing (ledger) and verification (kiosk).

Keep this module light (no database, no network): the kiosk imports it to verify.
A code is one line of ASCII::

    lk1.<kind>.<program>.<member>.<counter>.<signature>

``kind`` is ``m`` (member app: ``counter`` is the time step, unix time // period,
so the code rotates) or ``c`` (printed card: ``counter`` is the card's issue
number, the code is static). ``signature`` is Ed25519 over a domain-separated
copy of everything before it, base64url without padding. See docs/qr-codes.md.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from codes.keys import b64decode, b64encode, load_public, public_text

VERSION = "lk1"
KINDS = ("m", "c")
MAX_TEXT = 512  # characters; anything longer is refused before it is parsed
DOMAIN = b"loyalty-kiosk member qr v1\x00"  # a signature for this format only
ID_RE = re.compile(r"[a-z0-9-]{1,32}")
COUNTER_RE = re.compile(r"0|[1-9][0-9]{0,11}")
SIG_RE = re.compile(r"[A-Za-z0-9_-]{86}")  # 64 bytes, base64url, no padding
MAX_KEYS = 4  # verifying tries each key; a few cover a rotation

# What the customer reads on the 128x64 screen, per refusal reason.
SCREEN = {
    "too-long": "Not a member code", "not-text": "Not a member code",
    "control": "Not a member code", "format": "Not a member code",
    "version": "Update the app", "link": "That is a web link",
    "program": "Code for another shop", "expired": "Code expired",
    "future": "Code not valid yet", "clock": "Show printed card",
    "signature": "Code not genuine", "replay": "Code already used",
    "no-keys": "QR not set up", "card": "Cards not accepted",
}

# The public demo key: anyone can make codes with it. Never trust it in production.
DEMO_SEED = hashlib.sha256(b"loyalty-kiosk public DEMO qr key - never trust in production").digest()
DEMO_PROGRAM = "loyalty"


class QrRefused(ValueError):
    """A scanned text is not an acceptable member code; ``reason`` is a key of SCREEN."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    @property
    def screen(self) -> str:
        return SCREEN.get(self.reason, "Not a member code")


@dataclass(frozen=True)
class MemberCode:
    kind: str  # "m" app (rotating) | "c" printed card (static)
    program: str
    member: str
    counter: int
    signature: bytes = b""

    def signed_text(self) -> str:
        return f"{VERSION}.{self.kind}.{self.program}.{self.member}.{self.counter}"

    def message(self) -> bytes:
        return DOMAIN + self.signed_text().encode("ascii")

    def text(self) -> str:
        return f"{self.signed_text()}.{b64encode(self.signature)}"


# -- parsing -------------------------------------------------------------------------
def _as_text(data: str | bytes) -> str:
    if len(data) > MAX_TEXT:
        raise QrRefused("too-long", f"{len(data)} characters, at most {MAX_TEXT}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QrRefused("not-text", f"binary data, not UTF-8 text ({exc.reason})") from None
    text = data.strip(" \r\n")  # scanners add a line end
    bad = next((ch for ch in text if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F), None)
    if bad is not None:
        raise QrRefused("control", f"control character {bad!r} at {text.index(bad)}")
    if not text.isascii():
        raise QrRefused("format", "non-ASCII characters")
    return text


def _strip_link(text: str, url_prefix: str) -> str:
    if url_prefix and text.startswith(url_prefix):
        return text[len(url_prefix):]
    if "://" in text or text.lower().startswith("www."):
        host = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text).split("/")[0][:64]
        raise QrRefused("link", f"a link to {host!r}, not a member code")
    return text


def parse(data: str | bytes, url_prefix: str = "") -> MemberCode:
    """The fields of a code, checking only its form (not signature, program or time)."""
    text = _strip_link(_as_text(data), url_prefix)
    parts = text.split(".")
    if parts[0] != VERSION and re.fullmatch(r"lk[0-9]{1,3}", parts[0]):
        raise QrRefused("version", f"code format {parts[0]!r}, this kiosk reads {VERSION!r}")
    if len(parts) != 6 or parts[0] != VERSION:
        raise QrRefused("format", f"not a {VERSION} member code")
    _, kind, program, member, counter, sig = parts
    for name, value, ok in (("kind", kind, kind in KINDS),
                            ("program", program, ID_RE.fullmatch(program)),
                            ("member", member, ID_RE.fullmatch(member)),
                            ("counter", counter, COUNTER_RE.fullmatch(counter)),
                            ("signature", sig, SIG_RE.fullmatch(sig))):
        if not ok:
            raise QrRefused("format", f"bad {name} field {value[:40]!r}")
    try:
        signature = b64decode(sig)
    except ValueError:
        raise QrRefused("format", f"bad signature field {sig[:40]!r}") from None
    return MemberCode(kind, program, member, int(counter), signature)


# -- signing (the ledger) ------------------------------------------------------------
def sign(key: Ed25519PrivateKey, kind: str, program: str, member: str, counter: int) -> str:
    """A code's text; the fields are checked so the ledger cannot mint an unreadable code."""
    code = MemberCode(kind, program, member, counter)
    unsigned = code.signed_text()
    parse(f"{unsigned}.{'A' * 86}")  # same rules as the reader; raises QrRefused
    return MemberCode(kind, program, member, counter, key.sign(code.message())).text()


def app_code(key: Ed25519PrivateKey, program: str, member: str, period: int = 30,
             now: float | None = None) -> str:
    """The member app's code for the current time step."""
    return sign(key, "m", program, member, int((time.time() if now is None else now) // period))


def card_code(key: Ed25519PrivateKey, program: str, member: str, issue: int = 1) -> str:
    """A printed card's static code; a new ``issue`` number replaces a lost card's code."""
    return sign(key, "c", program, member, issue)


def demo_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(DEMO_SEED)


def demo_code(member: str, now: float | None = None) -> str:
    """A current app code for ``member`` under the public demo key (the demo shows it)."""
    return app_code(demo_key(), DEMO_PROGRAM, member, now=now)


# -- keys --------------------------------------------------------------------------
DEMO_PUBLIC_KEY = public_text(demo_key())


# -- verifying (the kiosk) ------------------------------------------------------------
class Verifier:
    """Checks a scanned text: form, program, signature, time window, replay at this kiosk.

    An app code for step s is valid from s*period - skew to (s+1)*period + grace.
    Each app code is accepted once here (replay memory lasts as long as the code).
    """

    def __init__(self, keys: Iterable[str], program: str, period: int = 30, grace: int = 30,
                 skew: int = 15, url_prefix: str = "", cards: bool = True,
                 memory: int = 4096) -> None:
        keys = list(keys)
        self.keys = [load_public(k) for k in keys]
        if len(self.keys) > MAX_KEYS:
            raise ValueError(f"{len(self.keys)} QR public keys, at most {MAX_KEYS}")
        self.demo = DEMO_PUBLIC_KEY in keys
        self.program, self.period, self.grace, self.skew = program, period, grace, skew
        self.url_prefix, self.cards, self.memory = url_prefix, cards, memory
        self._seen: OrderedDict[tuple[str, int], float] = OrderedDict()  # -> forget after

    def verify(self, data: str | bytes, now: float | None) -> MemberCode:
        """The code, or QrRefused. ``now`` is wall time, None when the clock is not set."""
        code = self.check(data, now)
        if code.kind == "m":
            self._check_replay(code, now)
        return code

    def check(self, data: str | bytes, now: float | None) -> MemberCode:
        """As :meth:`verify`, without remembering the code: the ledger checks one code in a
        lookup and again in the op that follows it."""
        code = parse(data, self.url_prefix)
        if code.program != self.program:
            raise QrRefused("program", f"program {code.program!r}, this kiosk is {self.program!r}")
        if not self.keys:
            raise QrRefused("no-keys", "no public key in qr.keys")
        if not any(self._valid(key, code) for key in self.keys):
            raise QrRefused("signature", f"bad signature on the code for member {code.member!r}")
        if code.kind == "c":
            if not self.cards:
                raise QrRefused("card", "printed-card codes are turned off (qr.cards)")
            return code
        self._check_time(code, now)
        return code

    @staticmethod
    def _valid(key: Ed25519PublicKey, code: MemberCode) -> bool:
        try:
            key.verify(code.signature, code.message())
        except InvalidSignature:
            return False
        return True

    def _check_time(self, code: MemberCode, now: float | None) -> None:
        if now is None:
            raise QrRefused("clock", "kiosk clock not set, cannot check an app code's time")
        start, end = code.counter * self.period, (code.counter + 1) * self.period
        if now > end + self.grace:
            raise QrRefused("expired", f"code expired {now - end:.0f} s ago")
        if now < start - self.skew:
            raise QrRefused("future", f"code starts in {start - now:.0f} s; is a clock wrong?")

    def _check_replay(self, code: MemberCode, now: float) -> None:
        while self._seen and (next(iter(self._seen.values())) < now
                              or len(self._seen) >= self.memory):
            self._seen.popitem(last=False)
        key = (code.member, code.counter)
        if key in self._seen:
            raise QrRefused("replay", f"code for {code.member!r} step {code.counter} already used")
        self._seen[key] = (code.counter + 1) * self.period + self.grace
