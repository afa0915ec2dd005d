"""Finding a member the way staff type it: part of a name (any case), an email or part of one,
a phone number however it is written (digits compared), a card number or UID, a member id.

What is typed is only ever a parameter, never SQL: ``' OR 1=1 --`` is searched for as text, and
``%`` and ``_`` are matched literally. Results come a page at a time (at most ``MAX_LIMIT``,
never past ``MAX_OFFSET``), ordered by name. On PostgreSQL the substring searches use the
trigram indexes of migration 0021 (pg_trgm); a text of one or two characters, too short for a
trigram, is matched as a prefix of the name, on its lower(name) index. Merged duplicates are
not listed: searching for one's id finds the member kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codes.card_numbers import CardNumberError, number_key, uid_key
from ledger.store import LedgerStore

MAX_QUERY = 100
PAGE = 20
MAX_LIMIT = 50
MAX_OFFSET = 1000
TRIGRAM = 3  # shorter texts are matched as a name prefix
_PHONE_TEXT = re.compile(r"[0-9\s+().-]+")


@dataclass(frozen=True)
class Hit:
    member_id: str
    name: str
    tier: str
    balance: int
    email: str | None
    phone: str | None
    blocked: bool


@dataclass(frozen=True)
class Page:
    query: str
    hits: list[Hit]
    offset: int
    limit: int
    more: bool  # another page follows


def check(query: str, offset: int = 0, limit: int = PAGE) -> str:
    """The search text, stripped; ValueError naming what is wrong with the request."""
    text = (query or "").strip()
    if len(text) > MAX_QUERY or not text.isprintable():
        raise ValueError(f"search text must be at most {MAX_QUERY} printable characters")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be from 0 to {MAX_OFFSET}; narrow the search instead")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_LIMIT}")
    return text


def search(store: LedgerStore, query: str, offset: int = 0, limit: int = PAGE) -> Page:
    """Members matching ``query`` (see the module's docstring); an empty one lists everyone."""
    text = check(query, offset, limit)
    branches, params = _branches(text)
    named = f" AND m.member_id IN ({' UNION '.join(branches)})" if branches else ""
    rows = store.db.execute(
        "SELECT m.member_id, m.name, m.tier, (SELECT COALESCE(SUM(points), 0) FROM journal j"
        " WHERE j.member_id = m.member_id), p.email, p.phone, m.blocked_at"
        f" FROM members m LEFT JOIN member_profiles p ON p.member_id = m.member_id"
        f" WHERE m.merged_into IS NULL{named}"
        " ORDER BY lower(m.name), m.member_id LIMIT ? OFFSET ?",
        (*params, limit + 1, offset)).fetchall()
    hits = [Hit(r[0], r[1], r[2], int(r[3]), r[4], r[5], r[6] is not None) for r in rows]
    return Page(text, hits[:limit], offset, limit, len(hits) > limit)


def _branches(text: str) -> tuple[list[str], list]:
    """SELECTs of member ids, one per way ``text`` can name a member, and their parameters."""
    if not text:
        return [], []
    lowered = text.lower()
    like = _escape(lowered)
    pattern = f"%{like}%" if len(text) >= TRIGRAM else f"{like}%"
    branches = ["SELECT member_id FROM members WHERE lower(name) LIKE ? ESCAPE '\\'",
                "SELECT member_id FROM member_profiles WHERE lower(email) LIKE ? ESCAPE '\\'",
                "SELECT COALESCE(merged_into, member_id) FROM members WHERE member_id = ?"]
    params: list = [pattern, pattern, text]
    if digits := _phone_digits(text):
        branches.append("SELECT member_id FROM member_profiles WHERE phone LIKE ?")
        params.append(f"%{digits}%")
    if keys := _card_keys(text):
        branches.append(f"SELECT member_id FROM tokens WHERE token_key IN ({', '.join('?' * len(keys))})")
        params.extend(keys)
    return branches, params


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phone_digits(text: str) -> str:
    """The digits of a phone number as typed, trunk zeros dropped (``030 1234-567`` finds
    +49301234567); "" when ``text`` is not a phone number of at least 4 digits."""
    if not _PHONE_TEXT.fullmatch(text):
        return ""
    digits = re.sub(r"\D", "", text).lstrip("0")
    return digits if len(digits) >= 4 else ""


def _card_keys(text: str) -> list[str]:
    keys = []
    for make in (number_key, uid_key):
        try:
            keys.append(make(text))
        except CardNumberError:
            pass
    return keys
