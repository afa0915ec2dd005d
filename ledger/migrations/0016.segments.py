"""Segments: the rule segments defined by `ledger segments add` (a program file's live in the
program body), who was in each segment at the last `ledger segments refresh` (RFM and rule
segments alike; entering and leaving are read from it), each member's RFM scores at that
refresh, and the segments' sizes over time (one row per segment per refresh)."""

from yoyo import step

__depends__ = {"0015.profiles"}

steps = [
    step(
        "CREATE TABLE segment_defs (segment_id TEXT PRIMARY KEY, body TEXT NOT NULL,"
        " added_at TEXT NOT NULL)",
        "DROP TABLE segment_defs",
    ),
    step(
        "CREATE TABLE segment_members (segment_id TEXT NOT NULL,"
        " member_id TEXT NOT NULL REFERENCES members(member_id), since TEXT NOT NULL,"
        " PRIMARY KEY (segment_id, member_id))",
        "DROP TABLE segment_members",
    ),
    step(
        "CREATE INDEX segment_members_member ON segment_members(member_id)",
        "DROP INDEX segment_members_member",
    ),
    step(
        "CREATE TABLE rfm_scores (member_id TEXT PRIMARY KEY REFERENCES members(member_id),"
        " last_at TEXT NOT NULL, baskets BIGINT NOT NULL, amount_minor BIGINT NOT NULL,"
        " r INTEGER NOT NULL, f INTEGER NOT NULL, m INTEGER NOT NULL, segment TEXT NOT NULL,"
        " at TEXT NOT NULL)",
        "DROP TABLE rfm_scores",
    ),
    step(
        "CREATE TABLE segment_sizes (segment_id TEXT NOT NULL, at TEXT NOT NULL,"
        " size BIGINT NOT NULL, PRIMARY KEY (segment_id, at))",
        "DROP TABLE segment_sizes",
    ),
]
