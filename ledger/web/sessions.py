"""Back-office sessions on the server side. The signed cookie (app.py) carries a random session
id; this table says whether that session is still open. Logging out closes it, so a copy of the
cookie taken before stops working too, which a signed cookie alone cannot do."""

from __future__ import annotations

import datetime as dt
import secrets

KEEP_DAYS = 2  # closed or expired sessions are kept this long (longer than any session lasts)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def start(db, user_name: str) -> str:
    """Open a session for ``user_name`` and return its id; forget long-gone sessions."""
    sid = secrets.token_urlsafe(24)
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=KEEP_DAYS)).isoformat(timespec="seconds")
    db.execute("DELETE FROM web_sessions WHERE started_at < ?", (cutoff,))
    db.execute("INSERT INTO web_sessions (sid, user_name, started_at) VALUES (?, ?, ?)",
               (sid, user_name, _now()))
    return sid


def is_open(db, sid: object, user_name: str) -> bool:
    """Whether ``sid`` names an open session of ``user_name``."""
    if not isinstance(sid, str):
        return False
    row = db.execute("SELECT user_name, ended_at FROM web_sessions WHERE sid = ?",
                     (sid,)).fetchone()
    return row is not None and row[0] == user_name and row[1] is None


def end(db, sid: object) -> None:
    if isinstance(sid, str):
        db.execute("UPDATE web_sessions SET ended_at = ? WHERE sid = ? AND ended_at IS NULL",
                   (_now(), sid))
