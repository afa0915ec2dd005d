"""Refusals listed in the order they were recorded: SQLite has its rowid; PostgreSQL gets a
sequence number (existing rows are numbered in their current order)."""

from yoyo import step

__depends__ = {"0008.operator"}


def _postgres(conn) -> bool:
    return not type(conn).__module__.startswith("sqlite3")


def apply(conn) -> None:
    if _postgres(conn):
        conn.cursor().execute("ALTER TABLE refusals ADD COLUMN refusal_no BIGSERIAL")


def rollback(conn) -> None:
    if _postgres(conn):
        conn.cursor().execute("ALTER TABLE refusals DROP COLUMN refusal_no")


steps = [step(apply, rollback)]
