"""A number per basket in the order they were recorded, so the back office can tell cheaply
that baskets were added (ledger/data_version.py): ``MAX(seq)`` reads one index entry. SQLite
has that number already (``rowid``); PostgreSQL gets a ``seq`` column filled for the baskets
there are, in no particular order, and numbered in insert order from then on."""

from yoyo import step

__depends__ = {"0027.web_sessions"}


def _sqlite(conn) -> bool:
    return type(conn).__module__.startswith("sqlite3")


def add(conn) -> None:
    if _sqlite(conn):
        return
    cur = conn.cursor()
    cur.execute("ALTER TABLE baskets ADD COLUMN seq BIGSERIAL")
    cur.execute("CREATE INDEX baskets_seq ON baskets(seq)")


def drop(conn) -> None:
    if not _sqlite(conn):
        conn.cursor().execute("ALTER TABLE baskets DROP COLUMN seq")


steps = [step(add, drop)]
