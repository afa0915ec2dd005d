"""The back office's sessions, kept in the database (ledger/web/sessions.py): the cookie names a
session here, so logging out ends it even for a copy of the cookie. And the kiosk's member links
that were opened (ledger/member_links.py): a kiosk link opens one browser only."""

from yoyo import step

__depends__ = {"0026.journal_days"}


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE web_sessions (sid TEXT PRIMARY KEY, user_name TEXT NOT NULL,"
        " started_at TEXT NOT NULL, ended_at TEXT)"
    )
    cur.execute("CREATE INDEX web_sessions_started ON web_sessions(started_at)")
    cur.execute(
        "CREATE TABLE member_link_uses (token_hash TEXT PRIMARY KEY, member_id TEXT NOT NULL,"
        " used_at TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX member_link_uses_used ON member_link_uses(used_at)")


def drop(conn) -> None:
    cur = conn.cursor()
    cur.execute("DROP TABLE member_link_uses")
    cur.execute("DROP TABLE web_sessions")


steps = [step(create, drop)]
