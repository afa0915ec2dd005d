"""Automations (docs/automations.md): the sends, one row per (automation, member, occasion) so
however often `ledger automations run` runs a member gets one message per occasion, and the
switches a person flipped (web or CLI), which override the program file's ``enabled``."""

from yoyo import step

__depends__ = {"0021.web_users"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        f"CREATE TABLE automation_sends (send_id {serial(conn)}, automation TEXT NOT NULL,"
        " member_id TEXT NOT NULL REFERENCES members(member_id), occasion TEXT NOT NULL,"
        " state TEXT NOT NULL, channels TEXT NOT NULL, language TEXT, error TEXT,"
        " created_at TEXT NOT NULL, finished_at TEXT,"
        " UNIQUE (automation, member_id, occasion))"
    )
    cur.execute("CREATE INDEX automation_sends_member ON automation_sends(member_id, automation,"
                " created_at)")
    cur.execute("CREATE INDEX automation_sends_recent ON automation_sends(created_at)")
    cur.execute(
        "CREATE TABLE automation_switches (automation TEXT PRIMARY KEY, enabled INTEGER NOT NULL,"
        " actor TEXT NOT NULL, at TEXT NOT NULL)"
    )


def drop(conn) -> None:
    cur = conn.cursor()
    cur.execute("DROP TABLE automation_switches")
    cur.execute("DROP TABLE automation_sends")


steps = [step(create, drop)]
