"""The back office's accounts (ledger/web/accounts.py) and its failed logins, kept in the database
so the rate limit (ledger/web/ratelimit.py) holds across restarts and several workers."""

from yoyo import step

__depends__ = {"0020.audit"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE web_users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
        " role TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)"
    )
    cur.execute(
        f"CREATE TABLE login_failures (seq {serial(conn)}, at TEXT NOT NULL,"
        " user_name TEXT NOT NULL, client TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX login_failures_user ON login_failures(user_name, at)")
    cur.execute("CREATE INDEX login_failures_client ON login_failures(client, at)")


def drop(conn) -> None:
    cur = conn.cursor()
    cur.execute("DROP TABLE login_failures")
    cur.execute("DROP TABLE web_users")


steps = [step(create, drop)]
