"""What a card number and a card UID are, for every reader and the ledger alike.

A card number is what a shop prints on a card and writes into its NDEF record
(``MEMBER-0042``): 4 to 32 of ``A-Z a-z 0-9 -``, compared exactly as written. A shop
may narrow that with its own pattern (``reader.card_number_pattern``, e.g.
``MEMBER-[0-9]{4}``); a pattern never widens it, so whatever a kiosk reads, the ledger
can register. A UID is the chip's serial number: 4 to 10 bytes, in upper-case hex.

The kiosk's readers and `ledger cards` / `ledger members add` key cards with
``number_key`` and ``uid_key``, so a card registered at the ledger is the card the
kiosk looks up. Light on purpose: the kiosk imports it.
"""

from __future__ import annotations

import re

from codes.tokens import token_key

DEFAULT_PATTERN = r"[A-Za-z0-9-]{4,32}"
BASE = re.compile(DEFAULT_PATTERN)
_UID = re.compile(r"(?:[0-9A-Fa-f]{2}){4,10}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
NUMBER_RULE = "4 to 32 of A-Z a-z 0-9 -"
UID_RULE = "8 to 20 hex digits (4 to 10 bytes), an even count"


class CardNumberError(ValueError):
    """Not a card number (or UID); the message names the value and the rule."""


def compile_pattern(text: str) -> re.Pattern:
    """A shop's card-number pattern, checked: it must compile and must not match nothing."""
    if not isinstance(text, str) or not text or len(text) > 200:
        raise CardNumberError("a card-number pattern is a regular expression of 1-200 characters")
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise CardNumberError(f"{text!r} is not a regular expression: {exc}") from None
    if pattern.fullmatch(""):
        raise CardNumberError(f"{text!r} matches an empty card number")
    return pattern


def is_card_number(text: str, pattern: re.Pattern | None = None) -> bool:
    """True when ``text`` is a card number by the base rule and the shop's ``pattern``."""
    return bool(BASE.fullmatch(text)) and (pattern is None or bool(pattern.fullmatch(text)))


def card_number(text: str, pattern: re.Pattern | None = None) -> str:
    """``text`` as a card number (surrounding spaces dropped), or CardNumberError saying why."""
    value = text.strip() if isinstance(text, str) else ""
    if not BASE.fullmatch(value):
        raise CardNumberError(f"card number {value[:40]!r} is not {NUMBER_RULE}")
    if pattern is not None and not pattern.fullmatch(value):
        raise CardNumberError(
            f"card number {value!r} does not match the shop's pattern {pattern.pattern!r}"
        )
    return value


def is_hex(text: str) -> bool:
    return bool(_HEX.fullmatch(text.strip()))


def card_uid(text: str) -> str:
    """``text`` as a card UID in upper-case hex (``04:a1:...`` separators allowed)."""
    value = text.strip().replace(":", "").replace(" ", "") if isinstance(text, str) else ""
    if not _UID.fullmatch(value):
        raise CardNumberError(f"UID {text[:40]!r} is not {UID_RULE}")
    return value.upper()


def number_key(number: str) -> str:
    """The ledger's key of a card number: what the kiosk sends as kind ``ndef``."""
    return token_key("ndef", card_number(number))


def uid_key(uid: str) -> str:
    """The ledger's key of a UID: the same for a plain and a SUN-verified tap."""
    return token_key("uid", card_uid(uid))
