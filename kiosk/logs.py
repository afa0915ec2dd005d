"""The kiosk's log lines: structured (logfmt), and free of card numbers.

Under systemd (JOURNAL_STREAM set) the journal stamps the time itself, so lines carry none.
A card UID (4, 7 or 10 bytes in hex) that reaches a message is replaced by a short hash, so
the journal can still tell two taps of one card apart without holding the card number. Eight
decimal digits are a UID only after "uid", "card", "tag" or "tap": a QR code's counter is not. The
kiosk keeps no names in its logs: a member is named by the ledger's member id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re

# 7- and 10-byte UIDs anywhere; a 4-byte one (8 hex digits) only with a letter in it or after a
# word that names a card: plain 8-digit numbers (a QR code's counter, a count) are left alone.
_UID = re.compile(r"(?P<ctx>\b(?:uid|card|tag|tap)[ \t:=#]*)?(?<![0-9A-Za-z-])"
                  r"(?P<hex>[0-9A-Fa-f]{20}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{8})(?![0-9A-Za-z-])",
                  re.IGNORECASE)


def card_ref(uid: str) -> str:
    """A stable, short stand-in for a card UID (the same card always gives the same ref)."""
    return "card#" + hashlib.sha256(uid.upper().encode()).hexdigest()[:10]


def _hash_uid(m: re.Match) -> str:
    ctx, uid = m.group("ctx") or "", m.group("hex")
    if len(uid) == 8 and uid.isdigit() and not ctx:
        return uid  # a number, not a card
    return ctx + card_ref(uid)


def redact(text: str) -> str:
    return _UID.sub(_hash_uid, text)


class StructuredFormatter(logging.Formatter):
    """``level=info logger=kiosk.session msg="points added ..."`` with UIDs hashed."""

    def __init__(self, with_time: bool) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + self.formatException(record.exc_info)
        msg = redact(msg).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        head = f"time={self.formatTime(record)} " if self.with_time else ""
        return f'{head}level={record.levelname.lower()} logger={record.name} msg="{msg}"'


def setup(verbose: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(StructuredFormatter(with_time="JOURNAL_STREAM" not in os.environ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
