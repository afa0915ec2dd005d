"""Punch cards: how many qualifying items each member has bought, per card, ever."""

from yoyo import step

__depends__ = {"0003.tier_since"}

steps = [step("CREATE TABLE punches (member_id TEXT NOT NULL REFERENCES members(member_id),"
              " card_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (member_id, card_id))",
              "DROP TABLE punches")]
