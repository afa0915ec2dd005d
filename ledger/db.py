"""Where the ledger keeps its data: a SQLite file or a PostgreSQL database, and its migrations.

``--db`` takes a file path (SQLite) or a ``postgresql://`` URL. The store talks to both through
one small connection type with SQLite's ``?`` placeholders; the schema is versioned with
yoyo-migrations (ledger/migrations), applied by ``ledger db upgrade`` (and automatically to a
SQLite file, which has no operator to run it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
PG_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 5


class SchemaError(RuntimeError):
    """The database's schema is older than this ledger; the message says what to run."""


class Unavailable(RuntimeError):
    """The database cannot be reached or opened; the message names it (password hidden)."""


def is_postgres(db: str) -> bool:
    return str(db).startswith(PG_SCHEMES)


def yoyo_uri(db: str) -> str:
    if is_postgres(db):
        return "postgresql+psycopg://" + str(db).split("://", 1)[1]
    return "sqlite:///" + str(Path(db).resolve())


class PgConnection:
    """A psycopg connection that takes SQLite's ``?`` placeholders (our SQL has no other ``?``)."""

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            # BEGIN/COMMIT are ours. A bounded connect: the ledger applies ops on its MQTT
            # thread, which must not hang on an unreachable server (unless the URL says so).
            timeout = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT_S}
            self.conn = psycopg.connect(url, autocommit=True, **timeout)
        except psycopg.Error as exc:
            raise Unavailable(f"{redact(url)}: {str(exc).strip().splitlines()[0]}") from None
        self._pipeline = None

    def execute(self, sql: str, params: tuple | list = ()):
        return self.conn.execute(sql.replace("?", "%s"), params or None)

    def executemany(self, sql: str, rows: list) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)  # pipelined by psycopg

    def copy_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Insert ``rows`` with COPY ... FROM STDIN (names are ours, never user input)."""
        with self.conn.cursor() as cur, cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def pipeline(self) -> Iterator:
        """psycopg's pipeline mode for a block: statements go out without waiting."""
        with self.conn.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield pipeline
            finally:
                self._pipeline = None

    def sync(self) -> None:
        """In a pipeline: wait for everything sent so far, raising its first error."""
        if self._pipeline is not None:
            self._pipeline.sync()

    def close(self) -> None:
        self.conn.close()


def connect(db: str):
    """An open connection in autocommit mode (transactions are explicit)."""
    if is_postgres(db):
        return PgConnection(str(db))
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _backend_and_migrations(db: str):
    from yoyo import get_backend, read_migrations

    try:
        backend = get_backend(yoyo_uri(db))
    except Exception as exc:  # noqa: BLE001 - driver errors differ; name the database
        raise Unavailable(f"{redact(db)}: {str(exc).strip().splitlines()[0]}") from None
    return backend, read_migrations(str(MIGRATIONS))


def pending(db: str) -> list[str]:
    """Ids of the migrations not yet applied to ``db``."""
    backend, migrations = _backend_and_migrations(db)
    try:
        return [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()


def upgrade(db: str) -> list[str]:
    """Apply what is pending (under yoyo's lock, so two ledgers starting together are safe)."""
    backend, migrations = _backend_and_migrations(db)
    try:
        with backend.lock():
            todo = backend.to_apply(migrations)
            backend.apply_migrations(todo)
        return [m.id for m in todo]
    finally:
        backend.connection.close()


def retryable(exc: BaseException) -> bool:
    """An error another worker's concurrent transaction caused; trying the op again settles it.

    On PostgreSQL two workers may apply the same op_id (or enrol the same new card) at once: the
    second one's insert waits for the first and then fails on the unique key; again, it sees
    the first result. A deadlock between two batches is broken by PostgreSQL the same way.
    """
    try:
        from psycopg import errors
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, errors.UniqueViolation | errors.DeadlockDetected |
                      errors.SerializationFailure)


def redact(db: str) -> str:
    """``db`` for messages and logs: a URL's password replaced by ***."""
    if not is_postgres(db):
        return str(db)
    from urllib.parse import urlsplit

    parts = urlsplit(str(db))
    if parts.password is None:
        return str(db)
    return str(db).replace(":" + parts.password + "@", ":***@", 1)
