"""The audit log: who changed what and when, through the web or the CLI (ledger/audit.py)."""

from yoyo import step

__depends__ = {"0019.events"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        f"CREATE TABLE audit_log (seq {serial(conn)}, at TEXT NOT NULL, actor TEXT NOT NULL,"
        " via TEXT NOT NULL, action TEXT NOT NULL, target TEXT, detail TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX audit_log_target ON audit_log(target, seq)")


def drop(conn) -> None:
    conn.cursor().execute("DROP TABLE audit_log")


steps = [step(create, drop)]
