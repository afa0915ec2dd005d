"""What the ledger needs to check proof itself: the last SUN read counter it accepted per card
(and which kiosk sent it, when), and each member's home store, which bounds the kiosks that may
act for them (ledger.policy). Members from before have none: every store serves them."""

from yoyo import step

__depends__ = {"0012.refunds"}

steps = [
    step("ALTER TABLE members ADD COLUMN home_store TEXT",
         "ALTER TABLE members DROP COLUMN home_store"),
    step("""CREATE TABLE sun_counters (
            uid TEXT PRIMARY KEY,
            counter BIGINT NOT NULL,
            store TEXT NOT NULL,
            kiosk TEXT NOT NULL,
            seen_at TEXT NOT NULL)""",
         "DROP TABLE sun_counters"),
]
