"""How often each member had each promotion, per local day, for per-member promotion limits."""

from yoyo import step

__depends__ = {"0005.birth_month"}

steps = [step("CREATE TABLE promo_uses (member_id TEXT NOT NULL REFERENCES members(member_id),"
              " promo_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,"
              " PRIMARY KEY (member_id, promo_id, day))", "DROP TABLE promo_uses")]
