"""The journal summed per UTC day (ledger/journal_days.py): a report reads a few rows a day
instead of every entry, and the points outstanding without reading the whole journal.

A trigger keeps it in the transaction that writes the journal, whichever code path writes
it. On PostgreSQL it runs once per statement (the batch's one COPY or INSERT) over its
transition table, and each connection adds to its own ``shard`` of the day's rows, so two
workers applying batches at once never wait for each other's summary rows. SQLite has one
writer at a time and no statement triggers: a row trigger, shard 0.
"""

from yoyo import step

__depends__ = {"0025.members_admin"}

KEY = "day, kind, reason, positive, shard"
# What a journal row adds to: its day, its kind, the reward for a redemption (other reasons
# are free text and never reported), whether it adds or takes points.
PARTS = ("substr({r}at, 1, 10)", "{r}kind", "CASE WHEN {r}kind = 'redeem' THEN {r}reason ELSE '' END",
         "CASE WHEN {r}points > 0 THEN 1 ELSE 0 END")

PG_FUNCTION = f"""CREATE FUNCTION journal_days_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO journal_days({KEY}, entries, points)
    SELECT {", ".join(p.format(r="") for p in PARTS)}, pg_backend_pid() % 16, COUNT(*), SUM(points)
    FROM added GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET entries = journal_days.entries + EXCLUDED.entries,
        points = journal_days.points + EXCLUDED.points;
    RETURN NULL;
END $$"""

SQLITE_TRIGGER = f"""CREATE TRIGGER journal_days_add AFTER INSERT ON journal BEGIN
    INSERT INTO journal_days({KEY}, entries, points)
    VALUES ({", ".join(p.format(r="NEW.") for p in PARTS)}, 0, 1, NEW.points)
    ON CONFLICT ({KEY}) DO UPDATE SET entries = entries + 1, points = points + excluded.points;
END"""


def _sqlite(conn) -> bool:
    return type(conn).__module__.startswith("sqlite3")


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE journal_days (day TEXT NOT NULL, kind TEXT NOT NULL,"
                " reason TEXT NOT NULL, positive INTEGER NOT NULL, shard INTEGER NOT NULL,"
                f" entries BIGINT NOT NULL, points BIGINT NOT NULL, PRIMARY KEY ({KEY}))")
    cur.execute(f"INSERT INTO journal_days({KEY}, entries, points) SELECT"
                f" {', '.join(p.format(r='') for p in PARTS)}, 0, COUNT(*), SUM(points)"
                " FROM journal GROUP BY 1, 2, 3, 4")  # what was written before this migration
    if _sqlite(conn):
        cur.execute(SQLITE_TRIGGER)
        return
    cur.execute(PG_FUNCTION)
    cur.execute("CREATE TRIGGER journal_days_add AFTER INSERT ON journal REFERENCING NEW TABLE"
                " AS added FOR EACH STATEMENT EXECUTE FUNCTION journal_days_add()")


def drop(conn) -> None:
    cur = conn.cursor()
    cur.execute("DROP TRIGGER journal_days_add" + ("" if _sqlite(conn) else " ON journal"))
    if not _sqlite(conn):
        cur.execute("DROP FUNCTION journal_days_add()")
    cur.execute("DROP TABLE journal_days")


steps = [step(create, drop)]
