"""The back office when something under it fails: the database loses a table, or drops the
app's connections (as it does when PostgreSQL restarts)."""

from __future__ import annotations

import psycopg
import pytest

from ledger.db import is_postgres
from ledger.web import pool
from tests.web_support import web  # noqa: F401


def _break_the_dashboard(db: str) -> None:
    """Take away a table the dashboard reads, behind the app's back."""
    if is_postgres(db):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("ALTER TABLE baskets RENAME TO baskets_gone")
    else:
        import sqlite3

        conn = sqlite3.connect(db)
        conn.execute("ALTER TABLE baskets RENAME TO baskets_gone")
        conn.commit()
        conn.close()


def test_a_failing_page_answers_500_with_the_security_headers_and_the_app_keeps_serving(web):  # noqa: F811
    client = web.client("owner")
    assert client.get("/").status_code == 200
    _break_the_dashboard(web.db)
    answer = client.get("/")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert client.get("/audit").status_code == 200  # other pages still answer


def test_connections_the_database_dropped_are_replaced_without_a_failed_request(
        web, ledger_db, monkeypatch):  # noqa: F811
    if not is_postgres(ledger_db):
        pytest.skip("a SQLite file has no server to drop connections")
    monkeypatch.setattr(pool, "PING_AFTER", 0.0)  # the app runs in this process (tests/web_support)
    client = web.client("owner")
    assert client.get("/audit").status_code == 200  # the pool now holds open connections
    with psycopg.connect(ledger_db, autocommit=True) as conn:
        dropped = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    for _ in range(3):
        assert client.get("/audit").status_code == 200
