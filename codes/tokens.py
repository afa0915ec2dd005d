"""How a card or code is keyed, the same way on the kiosk (member cache, pending points) and the
ledger (tokens table). Light on purpose: the kiosk imports it."""

from __future__ import annotations

import re

_HEX = re.compile(r"^[0-9A-Fa-f]+$")


def normalise(kind: str, value: str) -> str:
    """Card UIDs are hex: compare them upper-case whatever the reader or operator typed."""
    value = value.strip()
    if kind in ("uid", "sun") and _HEX.match(value):
        return value.upper()
    return value


def token_key(kind: str, value: str) -> str:
    """One key per card across kinds that carry the same UID (a plain tap and a SUN tap)."""
    family = "card" if kind in ("uid", "sun") else kind
    return f"{family}:{normalise(kind, value)}"
