"""Who made a manual adjustment (`ledger adjust --operator`)."""

from yoyo import step

__depends__ = {"0007.redeem_index"}

steps = [step("ALTER TABLE journal ADD COLUMN operator TEXT",
              "ALTER TABLE journal DROP COLUMN operator")]
