"""Finding a member the way staff type it: part of a name (any case), an email or part of one,
a phone number however it is written (digits compared), a card number or UID, a member id.

What is typed is only ever a parameter, never SQL: ``' OR 1=1 --`` is searched for as text, and
``%`` and ``_`` are matched literally. Results come a page at a time (at most ``MAX_LIMIT``,
never past ``MAX_OFFSET``), ordered by name. On PostgreSQL the substring searches use the
trigram indexes of migration 0025 (pg_trgm); a text of one or two characters, too short for a
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
    # The page first (each branch an index's rows), then its balances and contact: a balance
    # is a sum over the journal, worth computing for the 20 members shown, not for the
    # thousands a name part may match.
    rows = _rows(
        store,
        "SELECT pg.member_id, pg.name, pg.tier, (SELECT COALESCE(SUM(points), 0) FROM journal j"
        " WHERE j.member_id = pg.member_id), p.email, p.phone, pg.blocked_at"
        f" FROM (SELECT * FROM ({' UNION '.join(branches)}) hit"
        " ORDER BY lower(hit.name), hit.member_id LIMIT ? OFFSET ?) pg"
        " LEFT JOIN member_profiles p ON p.member_id = pg.member_id"
        " ORDER BY lower(pg.name), pg.member_id",
        (*params, limit + 1, offset), index_first=len(text) >= TRIGRAM)
    hits = [Hit(r[0], r[1], r[2], int(r[3]), r[4], r[5], r[6] is not None) for r in rows]
    return Page(text, hits[:limit], offset, limit, len(hits) > limit)


def _rows(store: LedgerStore, sql: str, params: tuple, index_first: bool) -> list[tuple]:
    """``sql``'s rows; on PostgreSQL, for a substring search, index first. The planner prices
    ``lower(name) LIKE '%...%'`` per row too cheaply and scans all 100,000 members rather than
    read the trigram index, two to five times slower here (docs/benchmarks.md); SET LOCAL keeps
    the choice to this statement, and the pipeline sends the four statements in one round trip.
    Inside a caller's transaction the statement runs as it is (no BEGIN/COMMIT of ours)."""
    if not (store.postgres and index_first) or \
            store.db.conn.info.transaction_status.name != "IDLE":
        return store.db.execute(sql, params).fetchall()
    with store.db.pipeline():
        store.db.execute("BEGIN")
        store.db.execute("SET LOCAL enable_seqscan = off")
        cursor = store.db.execute(sql, params)
        store.db.execute("COMMIT")
    return cursor.fetchall()


ROW = "SELECT m.member_id, m.name, m.tier, m.blocked_at FROM members m"
LIVE = " WHERE m.merged_into IS NULL"
BY_PROFILE = f"{ROW} JOIN member_profiles p ON p.member_id = m.member_id{LIVE}"


def _branches(text: str) -> tuple[list[str], list]:
    """SELECTs of member rows, one per way ``text`` can name a member, and their parameters."""
    if not text:
        return [ROW + LIVE], []
    like = _escape(text.lower())
    pattern = f"%{like}%" if len(text) >= TRIGRAM else f"{like}%"
    branches = [f"{ROW}{LIVE} AND lower(m.name) LIKE ? ESCAPE '\\'",
                f"{BY_PROFILE} AND lower(p.email) LIKE ? ESCAPE '\\'",
                f"{ROW}{LIVE} AND m.member_id = (SELECT COALESCE(merged_into, member_id)"
                " FROM members WHERE member_id = ?)"]
    params: list = [pattern, pattern, text]
    if digits := _phone_digits(text):
        branches.append(f"{BY_PROFILE} AND p.phone LIKE ?")
        params.append(f"%{digits}%")
    if keys := _card_keys(text):
        branches.append(f"{ROW} JOIN tokens t ON t.member_id = m.member_id{LIVE}"
                        f" AND t.token_key IN ({', '.join('?' * len(keys))})")
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
