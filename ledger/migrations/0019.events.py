"""Business events (member created, points earned, tier changed, automation fired, ...), written
in the same transaction as the change they describe. Webhooks and automations read them in order
(ledger/events.py); an event's ``event_id`` is the de-duplication id a receiver sees."""

from yoyo import step

__depends__ = {"0018.report_indexes"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        f"CREATE TABLE events (seq {serial(conn)}, event_id TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL, member_id TEXT, data TEXT NOT NULL, at TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX events_type ON events(type, seq)")


def drop(conn) -> None:
    conn.cursor().execute("DROP TABLE events")


steps = [step(create, drop)]
