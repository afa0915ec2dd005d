"""Counting redemptions per reward (stock, per-member limits) without reading the journal."""

from yoyo import step

__depends__ = {"0006.promo_uses"}

steps = [step("CREATE INDEX journal_reason ON journal(kind, reason, member_id)",
              "DROP INDEX journal_reason")]
