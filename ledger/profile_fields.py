"""What a member profile's fields may hold: each check returns the value to keep or raises
ValueError with a message that names the field and the rule (argparse shows it as is)."""

from __future__ import annotations

import datetime as dt
import re

CHANNELS = ("email", "sms", "phone", "post", "push")
SOURCES = ("kiosk", "web", "staff")

_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?[0-9]{6,15}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")
_LABEL = re.compile(r"[a-z0-9-]{1,32}")
_WORDING = re.compile(r"[A-Za-z0-9._-]{1,32}")


def name(text: str) -> str:
    if not text or len(text) > 64 or not text.isprintable():
        raise ValueError(f"name {text!r} must be 1 to 64 printable characters")
    return text


def email(text: str) -> str:
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ValueError(f"email {text!r} is not an address like ada@example.org")
    return text


def phone(text: str) -> str:
    """Spaces, dots, dashes and brackets are dropped: ``+49 30 1234-567`` keeps +49301234567."""
    digits = re.sub(r"[\s.()-]", "", text)
    if not _PHONE.fullmatch(digits):
        raise ValueError(f"phone {text!r} must be 6 to 15 digits, optionally after a +")
    return digits


def birth_date(text: str, today: dt.date | None = None) -> str:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"birth date {text!r} must be a date like 1990-04-23") from None
    if not dt.date(1900, 1, 1) <= day <= (today or dt.date.today()):
        raise ValueError(f"birth date {text} must be after 1900 and not in the future")
    return day.isoformat()


def language(text: str) -> str:
    if not _LANGUAGE.fullmatch(text):
        raise ValueError(f"language {text!r} must be a code like de, en or pt-BR")
    return text


def label(text: str) -> str:
    if not _LABEL.fullmatch(text):
        raise ValueError(f"label {text!r} must be 1 to 32 of a-z 0-9 -")
    return text


def note(text: str) -> str:
    if not text.strip() or len(text) > 500 or not text.isprintable():
        raise ValueError("a note must be 1 to 500 printable characters on one line")
    return text


def channel(text: str) -> str:
    if text not in CHANNELS:
        raise ValueError(f"channel {text!r} must be one of {', '.join(CHANNELS)}")
    return text


def source(text: str) -> str:
    if text not in SOURCES:
        raise ValueError(f"where {text!r} must be one of {', '.join(SOURCES)}")
    return text


def wording(text: str) -> str:
    if not _WORDING.fullmatch(text):
        raise ValueError(
            f"wording {text!r} must be a version like v1 (1 to 32 of A-Z a-z 0-9 . _ -)"
        )
    return text
