"""When a member reached their tier, so a downgrade can wait for the tier's review date."""

from yoyo import step

__depends__ = {"0002.programs"}

steps = [step("ALTER TABLE members ADD COLUMN tier_since TEXT",
              "ALTER TABLE members DROP COLUMN tier_since")]
