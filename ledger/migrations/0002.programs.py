"""Program versions (the validated body of each program file loaded), and an index for the
per-member facts the rule engine reads (points earned today, over the tier window)."""

from yoyo import step

__depends__ = {"0001.initial"}

steps = [
    step("CREATE TABLE programs (version INTEGER PRIMARY KEY, body TEXT NOT NULL,"
         " loaded_at TEXT NOT NULL)", "DROP TABLE programs"),
    step("CREATE INDEX journal_member_at ON journal(member_id, kind, at)",
         "DROP INDEX journal_member_at"),
]
