"""A member's card number from the NDEF message on a loyalty card, optionally signed.

Format (docs/readers.md, "Card formats"): the first URI or Text record counts.

- URI record: ``https://any.host/any/path?c=CARD&s=SIG``; the card number is the
  ``c`` query parameter (name configurable). Only with ``from_path`` (off by default,
  so a shop URL such as ``/welcome`` is never a card number) is it, without ``c``, the
  last path segment that is a card number.
- Text record: ``CARD`` or ``CARD.SIG``.

``CARD`` follows codes.card_numbers (4 to 32 of ``A-Z a-z 0-9 -``, narrowed by the
shop's pattern), the rule the ledger registers cards by. ``SIG`` is an Ed25519 signature by the
program's key over ``b"loyalty-card-v1:" + CARD`` (UTF-8), in unpadded base64url
(86 characters; codes.card_signature, which the ledger uses to check it again). Kiosks hold only
the public key, so a stolen kiosk cannot mint cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import ndef

from codes.card_numbers import CardNumberError, card_number, is_card_number
from codes.card_signature import SIG_CONTEXT, CardSignatureError, sign_card, verify_card

__all__ = ["SIG_CONTEXT", "CardNumber", "NdefCardError", "NdefCardPolicy", "card_from_ndef",
           "card_from_record", "first_card_record", "sign_card", "uri_of"]
MAX_NDEF = 8192  # the largest NFC Forum tags hold 8 kB; refuse anything bigger unread


class NdefCardError(ValueError):
    """The NDEF data carries no usable card number; ``reason`` says which check failed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class NdefCardPolicy:
    card_param: str = "c"
    sig_param: str = "s"
    public_key: bytes | None = None  # raw 32-byte Ed25519 public key of the program
    require_signature: bool = False
    pattern: re.Pattern | None = None  # the shop's narrower card-number rule
    from_path: bool = False  # a URI without ``card_param`` may carry the number in its path


@dataclass(frozen=True)
class CardNumber:
    value: str
    verified: bool
    sig: str | None = None  # the verified signature, forwarded to the ledger as the proof


def first_card_record(data: bytes) -> ndef.Record:
    """The first URI or Text record of an NDEF message (bytes as read from the tag)."""
    if len(data) > MAX_NDEF:
        raise NdefCardError("malformed", f"NDEF message of {len(data)} bytes is too large")
    try:
        for rec in ndef.message_decoder(bytes(data), errors="strict"):
            if isinstance(rec, ndef.UriRecord | ndef.TextRecord):
                return rec
    except (ndef.DecodeError, ValueError, LookupError) as exc:
        # ndeflib raises DecodeError for framing, and codec errors for bad text payloads.
        raise NdefCardError("malformed", f"not a valid NDEF message ({exc})") from None
    raise NdefCardError("no_card", "NDEF message has no URI or Text record")


def uri_of(rec: ndef.Record) -> str | None:
    return rec.iri if isinstance(rec, ndef.UriRecord) else None


def _from_uri(uri: str, pol: NdefCardPolicy) -> tuple[str, str | None]:
    try:
        parts = urlsplit(uri)
        query = parse_qs(parts.query, keep_blank_values=True, max_num_fields=20)
    except ValueError as exc:
        raise NdefCardError("malformed", f"URI not understood ({exc})") from None
    sig = query.get(pol.sig_param, [None])[-1]
    card = query.get(pol.card_param, [None])[-1]
    if card is not None:
        try:  # the card says this is its number: a wrong one is refused, not guessed around
            return card_number(card, pol.pattern), sig
        except CardNumberError as exc:
            raise NdefCardError("bad_number", str(exc)) from None
    if pol.from_path:
        for segment in reversed(parts.path.split("/")):
            if is_card_number(unquote(segment), pol.pattern):
                return unquote(segment), sig
    where = " or its path" if pol.from_path else ""
    raise NdefCardError("no_card", f"URI has no {pol.card_param!r} parameter{where}"
                        " with a card number")


def _from_text(text: str, pol: NdefCardPolicy) -> tuple[str, str | None]:
    card, dot, sig = text.strip().partition(".")
    if not is_card_number(card, pol.pattern):
        raise NdefCardError("no_card", f"text {card[:40]!r} is not a card number")
    return card, (sig if dot else None)


def _check_sig(card: str, sig: str, key: bytes) -> bool:
    try:
        verify_card(card, sig, key)
    except CardSignatureError as exc:
        raise NdefCardError("bad_signature", str(exc)) from None
    return True


def card_from_record(rec: ndef.Record, pol: NdefCardPolicy) -> CardNumber:
    uri = isinstance(rec, ndef.UriRecord)
    card, sig = _from_uri(rec.iri, pol) if uri else _from_text(rec.text, pol)
    if sig is not None and pol.public_key:
        return CardNumber(card, _check_sig(card, sig, pol.public_key), sig)
    if pol.require_signature:
        raise NdefCardError("unsigned", f"card {card} is not signed and the program requires it")
    return CardNumber(card, False)


def card_from_ndef(data: bytes, pol: NdefCardPolicy | None = None) -> CardNumber:
    """Parse NDEF bytes into a card number; raises NdefCardError and nothing else."""
    return card_from_record(first_card_record(data), pol or NdefCardPolicy())
