"""Member profiles (contact, birth date, language), labels, staff notes, and consent per channel
kept as history: giving or withdrawing is a new row, the newest row of a channel is what holds.
``ledger members forget`` blanks the personal columns and keeps the rows' dates and channels."""

from yoyo import step

__depends__ = {"0014.facts"}


def serial(conn) -> str:
    sqlite = type(conn).__module__.startswith("sqlite3")
    return "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "BIGSERIAL PRIMARY KEY"


def create(conn) -> None:
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE member_profiles (member_id TEXT PRIMARY KEY REFERENCES members(member_id),"
        " email TEXT, phone TEXT, birth_date TEXT, language TEXT, updated_at TEXT NOT NULL,"
        " forgotten_at TEXT)"
    )
    cur.execute(
        "CREATE TABLE member_labels (member_id TEXT NOT NULL REFERENCES members(member_id),"
        " label TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (member_id, label))"
    )
    cur.execute(
        f"CREATE TABLE member_notes (note_id {serial(conn)},"
        " member_id TEXT NOT NULL REFERENCES members(member_id), note TEXT NOT NULL,"
        " operator TEXT NOT NULL, at TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX member_notes_member ON member_notes(member_id)")
    cur.execute(
        f"CREATE TABLE consents (consent_id {serial(conn)},"
        " member_id TEXT NOT NULL REFERENCES members(member_id), channel TEXT NOT NULL,"
        " given INTEGER NOT NULL, source TEXT NOT NULL, wording TEXT NOT NULL,"
        " address TEXT, at TEXT NOT NULL)"
    )
    cur.execute("CREATE INDEX consents_member ON consents(member_id, channel)")


def drop(conn) -> None:
    cur = conn.cursor()
    for table in ("consents", "member_notes", "member_labels", "member_profiles"):
        cur.execute(f"DROP TABLE {table}")


steps = [step(create, drop)]
