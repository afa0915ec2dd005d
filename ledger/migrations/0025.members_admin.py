"""The back office's member work: blocking a member, merging a duplicate into the member kept
(the duplicate stays as a tombstone naming it), cards blocked when replaced, and the indexes
member search needs (ledger/member_search.py).

On PostgreSQL, pg_trgm (in Debian's postgresql package, a trusted extension since 13) gives
trigram GIN indexes, so a substring (or prefix) search of names, emails and phones uses an
index; where the extension is not available, a lower(name) text_pattern_ops index still serves
prefix search. A (lower(name), member_id) index lists everyone in name order, a page at a time.
SQLite scans (a shop-sized ledger)."""

from yoyo import step

__depends__ = {"0024.webhooks"}


def _sqlite(conn) -> bool:
    return type(conn).__module__.startswith("sqlite3")


def _trigrams(cur) -> bool:
    """pg_trgm installed (it may need a database owner: on refusal, do without)."""
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    if cur.fetchone() is None:
        return False
    cur.execute("SAVEPOINT trgm")
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 - no privilege: the prefix index serves instead
        cur.execute("ROLLBACK TO SAVEPOINT trgm")
        return False
    cur.execute("RELEASE SAVEPOINT trgm")
    return True


def create(conn) -> None:
    cur = conn.cursor()
    for statement in (
        "ALTER TABLE members ADD COLUMN blocked_at TEXT",
        "ALTER TABLE members ADD COLUMN blocked_reason TEXT",
        "ALTER TABLE members ADD COLUMN merged_into TEXT",
        "CREATE TABLE blocked_cards (token_key TEXT PRIMARY KEY,"
        " member_id TEXT NOT NULL REFERENCES members(member_id), blocked_at TEXT NOT NULL,"
        " reason TEXT NOT NULL)",
        "CREATE INDEX blocked_cards_member ON blocked_cards(member_id)",
    ):
        cur.execute(statement)
    if _sqlite(conn):
        cur.execute("CREATE INDEX member_profiles_email ON member_profiles(email)")
        return
    cur.execute("CREATE INDEX members_name_order ON members (lower(name), member_id)")
    if not _trigrams(cur):  # prefix search only, on an index LIKE 'ab%' can use
        cur.execute("CREATE INDEX members_name_prefix ON members (lower(name) text_pattern_ops)")
        cur.execute("CREATE INDEX member_profiles_email ON member_profiles (lower(email))")
        return
    for name, table, expr in (
        ("members_name_trgm", "members", "lower(name)"),
        ("member_profiles_email_trgm", "member_profiles", "lower(email)"),
        ("member_profiles_phone_trgm", "member_profiles", "phone"),
    ):
        cur.execute(f"CREATE INDEX {name} ON {table} USING gin ({expr} gin_trgm_ops)")


def drop(conn) -> None:
    cur = conn.cursor()
    for name in ("members_name_order", "members_name_prefix", "members_name_trgm", "member_profiles_email_trgm",
                 "member_profiles_phone_trgm", "member_profiles_email"):
        cur.execute(f"DROP INDEX IF EXISTS {name}")
    cur.execute("DROP TABLE blocked_cards")
    for column in ("merged_into", "blocked_reason", "blocked_at"):
        cur.execute(f"ALTER TABLE members DROP COLUMN {column}")


steps = [step(create, drop)]
