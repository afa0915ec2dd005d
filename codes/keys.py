"""Ed25519 keys and base64url as every signed format of the project writes them (member QR codes,
signed programs, provisioning codes, config updates): a public key is 43 base64url characters, a
private key an unencrypted PKCS#8 PEM file."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict: only the canonical text of some bytes decodes. A last character whose unused low
    bits are set decodes to the same bytes as another text, so a changed code could pass."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as the kiosk config's ``qr.keys`` holds it (base64url, 43 chars)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64encode(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_public(text: str) -> Ed25519PublicKey:
    """A ``qr.keys`` entry; ValueError names what is wrong."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]{43}", text):
        raise ValueError(f"QR public key {str(text)[:50]!r} is not 43 base64url characters")
    return Ed25519PublicKey.from_public_bytes(b64decode(text))


def new_private_pem() -> tuple[bytes, str]:
    """(PEM of a fresh signing key, its public key text)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, public_text(key)


def load_private(path: str | Path) -> Ed25519PrivateKey:
    """The ledger's signing key from a PEM file; ValueError names the file and the problem."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read signing key: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return key
