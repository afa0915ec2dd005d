"""Signed provisioning codes: the zero-touch path (a QR code the kiosk scans or a technician pastes).

One line of ASCII, short enough for a QR code::

    lkp1.<payload>.<signature>

``payload`` is base64url JSON with the kiosk's identity, its broker and credentials and an
expiry; ``signature`` is Ed25519 over a domain-separated copy of ``lkp1.<payload>``. The kiosk
accepts a code only under a key it already trusts (installed with the image, not carried in
the code). `ledger provision-code` makes codes; `kiosk provision --code` verifies them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.qrcodes import b64decode, b64encode, load_public

VERSION = "lkp1"
DOMAIN = b"loyalty-kiosk provisioning v1\x00"
MAX_TEXT = 4000
FORM = re.compile(r"lkp1\.([A-Za-z0-9_-]{4,3900})\.([A-Za-z0-9_-]{86})")
# What a code may carry: the provisioning answers (see kiosk.provision.Answers).
ALLOWED = {"store", "lane", "id", "host", "port", "tls", "username", "password", "ca_pem",
           "reader", "reader_path", "qr", "qr_device", "qr_keys", "display", "gpio", "language"}


class CodeRefused(ValueError):
    """The code is malformed, expired or not signed by a trusted key; the message says which."""


def sign(key: Ed25519PrivateKey, answers: dict, valid_s: int = 7 * 24 * 3600,
         now: float | None = None) -> str:
    unknown = set(answers) - ALLOWED
    if unknown:
        raise ValueError(f"provisioning code cannot carry {', '.join(sorted(unknown))}")
    now = time.time() if now is None else now
    body = {"v": 1, "exp": int(now + valid_s), **answers}
    payload = b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    head = f"{VERSION}.{payload}"
    return f"{head}.{b64encode(key.sign(DOMAIN + head.encode()))}"


def verify(text: str, trusted: Iterable[str], now: float | None = None) -> dict:
    """The answers a code carries, or CodeRefused naming what is wrong."""
    keys = [load_public(k) for k in trusted]
    if not keys:
        raise CodeRefused("no trusted provisioning key: install one (/etc/kiosk/provision-keys)"
                          " or pass --trust-key")
    text = text.strip()
    m = FORM.fullmatch(text) if len(text) <= MAX_TEXT else None
    if m is None:
        raise CodeRefused("not a provisioning code (expected lkp1.<payload>.<signature>)")
    signed = DOMAIN + f"{VERSION}.{m.group(1)}".encode()
    sig = b64decode(m.group(2))
    if not any(_valid(k, sig, signed) for k in keys):
        raise CodeRefused("bad signature: this code was not made with a trusted provisioning key")
    try:
        body = json.loads(b64decode(m.group(1)))
    except ValueError as exc:
        raise CodeRefused(f"signed payload is not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("v") != 1 or not isinstance(body.get("exp"), int):
        raise CodeRefused("signed payload has no version 1 or no expiry")
    if (time.time() if now is None else now) > body["exp"]:
        raise CodeRefused("code expired: make a new one with `ledger provision-code`")
    answers = {k: v for k, v in body.items() if k not in ("v", "exp")}
    unknown = set(answers) - ALLOWED
    if unknown:
        raise CodeRefused(f"code carries unknown fields: {', '.join(sorted(unknown))}")
    return answers


def _valid(key, sig: bytes, data: bytes) -> bool:
    try:
        key.verify(sig, data)
        return True
    except InvalidSignature:
        return False
