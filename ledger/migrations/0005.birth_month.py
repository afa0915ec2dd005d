"""A member's birth month (1-12), for birthday-month promotions: the month only, no date."""

from yoyo import step

__depends__ = {"0004.punches"}

steps = [step("ALTER TABLE members ADD COLUMN birth_month INTEGER",
              "ALTER TABLE members DROP COLUMN birth_month")]
