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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# cryptography is imported where a code is sealed or checked: `kiosk run` loads this module
# for remote config, and most kiosks never get an update (about 7 MB of RSS saved).

VERSION = "lkp1"
DOMAIN = b"loyalty-kiosk provisioning v1\x00"
MAX_TEXT = 4000
FORM = re.compile(r"lk[a-z][0-9]\.([A-Za-z0-9_-]{4,3900})\.([A-Za-z0-9_-]{86})")
# What a code may carry: the provisioning answers (see codes.provision_answers.Answers).
ALLOWED = {"store", "lane", "id", "host", "port", "tls", "username", "password", "ca_pem",
           "reader", "reader_path", "qr", "qr_device", "qr_keys", "display", "gpio", "language"}


class CodeRefused(ValueError):
    """The code is malformed, expired or not signed by a trusted key; the message says which."""


def seal(key: Ed25519PrivateKey, version: str, domain: bytes, body: dict) -> str:
    """``version.<payload>.<signature>``: body as base64url JSON, Ed25519 over domain + head."""
    from codes.keys import b64encode

    payload = b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    head = f"{version}.{payload}"
    return f"{head}.{b64encode(key.sign(domain + head.encode()))}"


def unseal(text: str, version: str, domain: bytes, trusted: Iterable[str], what: str) -> dict:
    """The signed body of a sealed text, or CodeRefused naming what is wrong."""
    from codes.keys import b64decode, load_public

    keys = [load_public(k) for k in trusted]
    if not keys:
        raise CodeRefused(f"no trusted key for {what}s")
    text = text.strip()
    m = FORM.fullmatch(text) if len(text) <= MAX_TEXT and text.startswith(version + ".") else None
    if m is None:
        raise CodeRefused(f"not a {what} (expected {version}.<payload>.<signature>)")
    signed = domain + text[:text.rindex(".")].encode()
    if not any(_valid(k, b64decode(m.group(2)), signed) for k in keys):
        raise CodeRefused(f"bad signature: this {what} was not made with a trusted key")
    try:
        body = json.loads(b64decode(m.group(1)))
    except ValueError as exc:
        raise CodeRefused(f"signed payload is not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("v") != 1 or not isinstance(body.get("exp"), int):
        raise CodeRefused("signed payload has no version 1 or no expiry")
    return body


def sign(key: Ed25519PrivateKey, answers: dict, valid_s: int = 7 * 24 * 3600,
         now: float | None = None) -> str:
    unknown = set(answers) - ALLOWED
    if unknown:
        raise ValueError(f"provisioning code cannot carry {', '.join(sorted(unknown))}")
    now = time.time() if now is None else now
    return seal(key, VERSION, DOMAIN, {"v": 1, "exp": int(now + valid_s), **answers})


def verify(text: str, trusted: Iterable[str], now: float | None = None) -> dict:
    """The answers a code carries, or CodeRefused naming what is wrong."""
    trusted = list(trusted)
    if not trusted:
        raise CodeRefused("no trusted provisioning key: install one (/etc/kiosk/provision-keys)"
                          " or pass --trust-key")
    body = unseal(text, VERSION, DOMAIN, trusted, "provisioning code")
    if (time.time() if now is None else now) > body["exp"]:
        raise CodeRefused("code expired: make a new one with `ledger provision-code`")
    answers = {k: v for k, v in body.items() if k not in ("v", "exp")}
    unknown = set(answers) - ALLOWED
    if unknown:
        raise CodeRefused(f"code carries unknown fields: {', '.join(sorted(unknown))}")
    return answers


def _valid(key, sig: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(sig, data)
        return True
    except InvalidSignature:
        return False
