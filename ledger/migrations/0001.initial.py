"""The sale path's schema: members, their cards and codes, the journal, applied ops, refusals.

CREATE ... IF NOT EXISTS adopts a SQLite file made before migrations existed.
"""

from yoyo import step

__depends__: set = set()


def serial(conn) -> str:
    """An auto-numbered key in this database's dialect."""
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    for statement in (
        """CREATE TABLE IF NOT EXISTS members (
            member_id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            tier TEXT NOT NULL DEFAULT 'member',
            created_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS tokens (
            token_key TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(member_id),
            added_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS tokens_member ON tokens(member_id)",
        f"""CREATE TABLE IF NOT EXISTS journal (
            entry_id {serial(conn)},
            member_id TEXT NOT NULL REFERENCES members(member_id),
            kind TEXT NOT NULL,
            points INTEGER NOT NULL,
            op_id TEXT,
            basket_id TEXT,
            store TEXT,
            kiosk TEXT,
            kiosk_seq INTEGER,
            reason TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS journal_member ON journal(member_id, points)",
        """CREATE TABLE IF NOT EXISTS ops (
            op_id TEXT PRIMARY KEY,
            store TEXT NOT NULL,
            kiosk TEXT NOT NULL,
            kiosk_seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            result TEXT NOT NULL,
            applied_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS refusals (
            op_id TEXT NOT NULL,
            member_id TEXT,
            what TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL)""",
    ):
        cur.execute(statement)


steps = [step(create)]
