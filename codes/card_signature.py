"""The signature on a loyalty card's number (docs/readers.md, "Card formats"): Ed25519 by the
program's key over ``b"loyalty-card-v1:" + CARD`` (UTF-8), unpadded base64url (86 characters).

Shared by the kiosk's NDEF reader and the ledger, which checks the signature the kiosk
forwards, so a kiosk cannot claim a signed card it never read. Kiosks and the ledger hold only
the public key; nothing that verifies can mint cards.
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG_CONTEXT = b"loyalty-card-v1:"
SIG_RE = re.compile(r"[A-Za-z0-9_-]{86}")


class CardSignatureError(ValueError):
    """The signature is not one the program's key made for this card number."""


def verify_card(card: str, sig: str, public_key: bytes) -> None:
    """Return if ``sig`` is the program key's signature of ``card``; CardSignatureError if not."""
    if not isinstance(sig, str) or not SIG_RE.fullmatch(sig):
        raise CardSignatureError("signature is not 86 base64url characters")
    raw = base64.urlsafe_b64decode(sig + "==")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, SIG_CONTEXT + card.encode())
    except InvalidSignature:
        raise CardSignatureError(f"signature of card {card} does not verify with the program"
                                 " key") from None


def sign_card(private_key: Ed25519PrivateKey, card: str) -> str:
    """The SIG for ``card`` (for provisioning tools and tests)."""
    raw = private_key.sign(SIG_CONTEXT + card.encode())
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
