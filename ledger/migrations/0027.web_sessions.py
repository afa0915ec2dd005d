"""The back office's sessions, kept in the database (ledger/web/sessions.py): the cookie names a
session here, so logging out ends it even for a copy of the cookie."""

from yoyo import step

__depends__ = {"0026.journal_days"}


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE web_sessions (sid TEXT PRIMARY KEY, user_name TEXT NOT NULL,"
        " started_at TEXT NOT NULL, ended_at TEXT)"
    )
    cur.execute("CREATE INDEX web_sessions_started ON web_sessions(started_at)")


def drop(conn) -> None:
    conn.cursor().execute("DROP TABLE web_sessions")


steps = [step(create, drop)]
