"""Facts: every paid basket the kiosks see, with or without a member, with its lines and the
discounts the POS gave for rewards; one row per op (the op_id is the key, so a replay cannot add
a second). A report reads baskets from here only: ``sales`` (0012) stays the refund pricing record
of member sales and ``refunds`` what each refund took, joined by op_id (see ledger.facts)."""

from yoyo import step

__depends__ = {"0013.proof"}

steps = [
    step(
        "CREATE TABLE baskets (op_id TEXT PRIMARY KEY, store TEXT NOT NULL, lane TEXT,"
        " kiosk TEXT NOT NULL, basket_id TEXT NOT NULL, at TEXT NOT NULL,"
        " kiosk_at TEXT NOT NULL, clock_synced INTEGER NOT NULL, currency TEXT NOT NULL,"
        " total_minor BIGINT NOT NULL, discount_minor BIGINT NOT NULL,"
        " member_id TEXT REFERENCES members(member_id), recorded_at TEXT NOT NULL)",
        "DROP TABLE baskets",
    ),
    step("CREATE INDEX baskets_store_at ON baskets(store, at)", "DROP INDEX baskets_store_at"),
    step("CREATE INDEX baskets_member ON baskets(member_id)", "DROP INDEX baskets_member"),
    step("CREATE INDEX baskets_basket ON baskets(store, basket_id)", "DROP INDEX baskets_basket"),
    step(
        "CREATE TABLE basket_lines (op_id TEXT NOT NULL REFERENCES baskets(op_id),"
        " line_no INTEGER NOT NULL, sku TEXT NOT NULL, category TEXT NOT NULL,"
        " qty INTEGER NOT NULL, unit_minor BIGINT NOT NULL, PRIMARY KEY (op_id, line_no))",
        "DROP TABLE basket_lines",
    ),
    step(
        "CREATE TABLE basket_discounts (op_id TEXT NOT NULL REFERENCES baskets(op_id),"
        " reward_id TEXT NOT NULL, discount_minor BIGINT NOT NULL, points BIGINT NOT NULL)",
        "DROP TABLE basket_discounts",
    ),
    step(
        "CREATE INDEX basket_discounts_op ON basket_discounts(op_id)",
        "DROP INDEX basket_discounts_op",
    ),
]
