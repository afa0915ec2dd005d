"""Webhooks (ledger/webhooks.py, ledger/webhook_queue.py): endpoints with their event filter and
signing secrets (two at once during a rotation), and the durable delivery queue. Each endpoint
keeps a cursor over events.seq: deliveries are made from the events after it, so an event
committed while no runner was up is still delivered."""

from yoyo import step

__depends__ = {"0023.program_sources"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE webhook_endpoints (endpoint_id TEXT PRIMARY KEY, url TEXT NOT NULL,"
        " event_types TEXT NOT NULL, enabled INTEGER NOT NULL, disabled_reason TEXT,"
        " created_at TEXT NOT NULL, after_seq BIGINT NOT NULL)"
    )
    cur.execute(
        "CREATE TABLE webhook_secrets (endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints,"
        " secret TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT,"
        " PRIMARY KEY (endpoint_id, secret))"
    )
    cur.execute(
        f"CREATE TABLE webhook_deliveries (delivery_id {serial(conn)}, event_id TEXT NOT NULL,"
        " endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints, state TEXT NOT NULL,"
        " attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL, last_attempt_at TEXT,"
        " last_status INTEGER, last_error TEXT, created_at TEXT NOT NULL, give_up_at TEXT NOT NULL,"
        " UNIQUE (endpoint_id, event_id))"
    )
    cur.execute("CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at)")


def drop(conn) -> None:
    cur = conn.cursor()
    for table in ("webhook_deliveries", "webhook_secrets", "webhook_endpoints"):
        cur.execute(f"DROP TABLE {table}")


steps = [step(create, drop)]
