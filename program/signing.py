"""The signed program message on ``loyalty/v1/program``: signing (ledger) and checking (kiosk).

The signature is Ed25519 over a domain prefix and the body as canonical JSON (sorted keys, no
spaces, UTF-8), so re-encoding by a broker or a JSON library cannot break it. The message names
the signing public key so the kiosk can pick it from its configured keys (a rotation keeps two).
Keys use the same text form as the QR code keys (codes.member_qr).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes.keys import b64decode, b64encode, load_public, public_text
from mqtt import messages
from program.files import ProgramError, program_from_body
from program.rules import RuleProgram

DOMAIN = b"loyalty-kiosk program v1\x00"


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed_message(body: dict, key: Ed25519PrivateKey) -> bytes:
    """The retained payload the ledger publishes for ``body``."""
    signature = key.sign(DOMAIN + canonical(body))
    return messages.encode("program", {"v": 1, "program": body, "key": public_text(key),
                                       "signature": b64encode(signature)})


def verify(payload: bytes, keys: Iterable[str]) -> RuleProgram:
    """The program a payload carries, if a configured key signed it; BadMessage says why not."""
    msg = messages.decode("program", payload)
    if msg["key"] not in set(keys):
        raise messages.BadMessage(f"program: signed by key {msg['key'][:12]}..., which is not "
                                  "in [program] keys")
    try:
        load_public(msg["key"]).verify(b64decode(msg["signature"]),
                                       DOMAIN + canonical(msg["program"]))
    except (InvalidSignature, ValueError):
        raise messages.BadMessage("program: the signature does not match") from None
    try:
        return program_from_body(msg["program"])
    except ProgramError as exc:
        raise messages.BadMessage(f"program: {exc}") from None
