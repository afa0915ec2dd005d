"""The last calendar tier review a member passed in their tier (program key tier_review), so the
next one is a year on, not at their next sale."""

from yoyo import step

__depends__ = {"0009.refusal_order"}

steps = [step("ALTER TABLE members ADD COLUMN tier_reviewed TEXT",
              "ALTER TABLE members DROP COLUMN tier_reviewed")]
