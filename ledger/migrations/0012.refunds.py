"""Returns: each sale's lines and points, so a refund can take back what its lines earned, and
each refund applied, so a line is never refunded twice (see program.refunds)."""

from yoyo import step

__depends__ = {"0011.card_numbers"}

steps = [
    step(
        "CREATE TABLE sales (op_id TEXT PRIMARY KEY, store TEXT NOT NULL,"
        " basket_id TEXT NOT NULL, member_id TEXT NOT NULL REFERENCES members(member_id),"
        " body TEXT NOT NULL, at TEXT NOT NULL)",
        "DROP TABLE sales",
    ),
    step("CREATE INDEX sales_basket ON sales(store, basket_id)", "DROP INDEX sales_basket"),
    step(
        "CREATE TABLE refunds (op_id TEXT PRIMARY KEY, sale_op_id TEXT NOT NULL,"
        " refund_id TEXT, body TEXT NOT NULL, at TEXT NOT NULL)",
        "DROP TABLE refunds",
    ),
    step("CREATE INDEX refunds_sale ON refunds(sale_op_id)", "DROP INDEX refunds_sale"),
]
