"""The limits of contract v1, in one table both sides share.

The JSON Schemas in mqtt/schemas carry these numbers for readers of the published contract;
``mqtt.messages`` writes the table over them when it loads a schema (``BOUNDS`` says where), so
what the kiosk accepts is what the ledger accepts, and ``program.files`` refuses a program that
could price an op past ``POINTS`` (tests/test_limits.py checks the files agree with the table).
"""

from __future__ import annotations

PAYLOAD_BYTES = 64 * 1024  # one message, as sent (a batch of ops or acks included)
OPS_PER_BATCH = 100  # ops in one op_batch, acks in one ack_batch (contract v1.2)
NESTING = 16  # objects and arrays inside one another (the deepest message, a program, uses 7)
ITEMS_PER_BASKET = 500
ITEM_QTY = 10_000
AMOUNT_MINOR = 10**12  # a basket total or a unit price, in minor units
POINTS = 10**12  # one op's earn, an ack's earned or redeemed, one redemption's points
REDEEMS_PER_OP = 10
KIOSK_SEQ = 2**63 - 1  # the outbox's AUTOINCREMENT and the ledger's BIGINT column both stop here
BASKET_SEQ = 2**53  # the largest integer every JSON peer (JavaScript POS included) reads exactly
SKU_CHARS = 64
CATEGORY_CHARS = 64
TOKEN_CHARS = 512
REASON_CHARS = 200
TIER_CHARS = 32
NAME_CHARS = 64
TIME_CHARS = 40

_ITEM = ("properties", "items", "items", "properties")
_REDEEM = ("properties", "redeem", "items", "properties")
_TOKEN = ("properties", "token", "properties")

# (schema, path to the keyword's object, keyword, limit)
BOUNDS: tuple[tuple[str, tuple[str, ...], str, int], ...] = (
    *((name, ("properties", "items"), "maxItems", ITEMS_PER_BASKET) for name in ("basket", "op")),
    *((name, (*_ITEM, "qty"), "maximum", ITEM_QTY) for name in ("basket", "op")),
    *((name, (*_ITEM, "unit_minor"), "maximum", AMOUNT_MINOR) for name in ("basket", "op")),
    *((name, (*_ITEM, "sku"), "maxLength", SKU_CHARS) for name in ("basket", "op")),
    *((name, (*_ITEM, "category"), "maxLength", CATEGORY_CHARS) for name in ("basket", "op")),
    *((name, ("properties", "total_minor"), "maximum", AMOUNT_MINOR) for name in ("basket", "op")),
    ("basket", ("properties", "seq"), "maximum", BASKET_SEQ),
    ("basket", ("properties", "discounts"), "maxItems", REDEEMS_PER_OP),  # one per redemption
    ("basket", ("properties", "discounts", "items", "properties", "discount_minor"), "maximum",
     AMOUNT_MINOR),
    ("op", ("properties", "kiosk_seq"), "maximum", KIOSK_SEQ),
    ("op", ("properties", "earn"), "maximum", POINTS),
    ("op", ("properties", "redeem"), "maxItems", REDEEMS_PER_OP),
    ("op", (*_REDEEM, "points"), "maximum", POINTS),
    ("op", (*_TOKEN, "value"), "maxLength", TOKEN_CHARS),
    ("op", ("properties", "created_at"), "maxLength", TIME_CHARS),
    ("lookup_request", (*_TOKEN, "value"), "maxLength", TOKEN_CHARS),
    ("member", ("properties", "projected_earn"), "maximum", POINTS),
    ("ack", ("properties", "earned"), "maximum", POINTS),
    ("ack", ("properties", "redeemed"), "maximum", POINTS),
    ("ack", ("properties", "reason"), "maxLength", REASON_CHARS),
    ("ack", ("properties", "tier"), "maxLength", TIER_CHARS),
    ("op_batch", ("properties", "ops"), "maxItems", OPS_PER_BATCH),
    ("ack_batch", ("properties", "acks"), "maxItems", OPS_PER_BATCH),
    ("capabilities", ("properties", "max_ops_per_batch"), "maximum", OPS_PER_BATCH),
    ("lookup_reply", ("properties", "member", "properties", "name"), "maxLength", NAME_CHARS),
    ("lookup_reply", ("properties", "member", "properties", "tier"), "maxLength", TIER_CHARS),
)


def apply(name: str, schema: dict) -> dict:
    """Write the table's numbers into schema ``name`` (in place); returns it."""
    for schema_name, path, keyword, limit in BOUNDS:
        if schema_name == name:
            _at(schema, path)[keyword] = limit
    return schema


def _at(schema: dict, path: tuple[str, ...]) -> dict:
    node = schema
    for key in path:
        node = node[key]
    return node


def bound_in_file(schema: dict, path: tuple[str, ...], keyword: str) -> int | None:
    """The number a schema file itself gives (for the check that files and table agree)."""
    return _at(schema, path).get(keyword)
