"""Reservations of limited rewards (stock, per member): a kiosk holds one while the POS applies the
discount; it counts against the limits until the sale consumes it, the kiosk releases it or it
lapses (``expires_at``, epoch seconds, checked when read)."""

from yoyo import step

__depends__ = {"0016.segments"}

steps = [
    step(
        "CREATE TABLE reservations (reservation_id TEXT PRIMARY KEY, reward_id TEXT NOT NULL,"
        " member_id TEXT NOT NULL REFERENCES members(member_id), store TEXT NOT NULL,"
        " kiosk TEXT NOT NULL, basket_id TEXT, expires_at DOUBLE PRECISION NOT NULL)",
        "DROP TABLE reservations",
    ),
    step(
        "CREATE INDEX reservations_reward ON reservations(reward_id, expires_at)",
        "DROP INDEX reservations_reward",
    ),
]
