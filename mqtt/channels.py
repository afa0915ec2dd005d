"""The contract's channels: each topic, its parameters, its message schema(s), who sends it and
who receives it, whether it is retained, and a line for the docs. mqtt.asyncapi turns this table
into one AsyncAPI document per role; docs/pos-integration.md explains the same topics in prose.
"""

from __future__ import annotations

from mqtt import topics

LANE, KIOSK = ("store", "lane"), ("store", "kiosk")


def _channel(address, params, message, sender, receivers, retain, note):
    """``message``: a schema name, or a tuple of them (v1.2: a single op or an op_batch)."""
    names = message if isinstance(message, tuple) else (message,)
    return {
        "address": address,
        "params": params,
        "message": names[0],
        "messages": names,
        "sender": sender,
        "receivers": receivers,
        "retain": retain,
        "note": note,
    }


CHANNELS = {
    "basket": _channel(
        topics.basket("{store}", "{lane}"),
        LANE,
        "basket",
        "pos",
        ("kiosk",),
        True,
        "The lane's current basket. Publish every change with a higher seq; status goes "
        "open -> total -> paid or void. Retained, so a kiosk that restarts sees it.",
    ),
    "member": _channel(
        topics.member("{store}", "{lane}"),
        LANE,
        "member",
        "kiosk",
        ("pos",),
        False,
        "Who is paying: member, balance, projected earn, affordable rewards; sent again "
        "whenever these figures change.",
    ),
    "redemption": _channel(
        topics.redemption("{store}", "{lane}"),
        LANE,
        "redemption",
        "kiosk",
        ("pos",),
        False,
        "Apply (or cancel) a reward's discount on the open basket. The POS shows it in the "
        "basket it publishes next; the points are spent only when it is paid.",
    ),
    "refund": _channel(
        topics.refund("{store}", "{lane}"),
        LANE,
        "refund",
        "pos",
        ("kiosk",),
        False,
        "v1.1. Refund a paid basket, whole or by lines; refund_id is the idempotency key. A void "
        "of a basket already paid is a whole refund too (see docs/pos-integration.md, Returns).",
    ),
    "notice": _channel(
        topics.notice("{store}", "{lane}"),
        LANE,
        "notice",
        "kiosk",
        ("pos",),
        False,
        "What the POS must know about a basket (contract v1.1): basket_refused (a currency the "
        "program does not price, an op the ledger could not take, a payload that breaks the "
        "contract), join_declined (an unknown card whose customer did not press select: no "
        "points), member_changed (the member moved to or was dropped from a basket, or the "
        "ledger's id for a new card), return_applied / return_refused (a refund's outcome). "
        "reason starts with a code; see docs/pos-integration.md.",
    ),
    "ops": _channel(
        topics.ops("{store}", "{kiosk}"),
        KIOSK,
        ("op", "op_batch"),
        "kiosk",
        ("ledger",),
        False,
        "One earn/redeem operation per paid basket; op_id is the idempotency key. Sent again "
        "until acked; the ledger reads it through $share/ledger/... v1.2: several ops in one "
        "op_batch, only to a ledger whose capabilities message allows it.",
    ),
    "acks": _channel(
        topics.acks("{store}", "{kiosk}"),
        KIOSK,
        ("ack", "ack_batch"),
        "ledger",
        ("kiosk",),
        False,
        "The op's result; a repeated op_id gets the first result as 'duplicate'. Ops sent one "
        "per message get one ack per message; ops sent in an op_batch get an ack_batch (v1.2).",
    ),
    "kioskLookup": _channel(
        topics.lookup("{store}", "{kiosk}"),
        KIOSK,
        "lookup_request",
        "kiosk",
        ("ledger",),
        False,
        "Who holds this token? An MQTT 5 request on the kiosk's own topic: the answer comes on "
        "this kiosk's lookup-reply channel (a response topic naming another is refused), with "
        "the request's correlation data. v1.3: ask_link asks for the member's account_link (only "
        "of a ledger whose capabilities say 1.3 or later; an older one refuses the field).",
    ),
    "lookup": _channel(
        topics.LOOKUP,
        (),
        "lookup_request",
        "kiosk",
        ("ledger",),
        False,
        "The first, shared lookup topic, kept until every kiosk uses kioskLookup: the response "
        "topic must be the asking kiosk's lookup-reply channel; any other is refused.",
    ),
    "lookupReply": _channel(
        topics.lookup_reply("{store}", "{kiosk}"),
        KIOSK,
        "lookup_reply",
        "ledger",
        ("kiosk",),
        False,
        "The answer to a lookup, with the request's correlation data; v1.3: account_link, a "
        "signed short-lived link to the member's page, when the request asked for it and the "
        "ledger has a web address.",
    ),
    "reserve": _channel(
        topics.reserve("{store}", "{kiosk}"),
        KIOSK,
        "reserve_request",
        "kiosk",
        ("ledger",),
        False,
        "v1.1: hold one of a reward with a stock or a per-member limit for the member before "
        "the POS is asked for its discount (action reserve, answered on this kiosk's "
        "reserve-reply channel with the request's correlation data), or give it back (action "
        "release, not answered). A reservation lapses unless a sale op carrying its id "
        "consumes it in time.",
    ),
    "reserveReply": _channel(
        topics.reserve_reply("{store}", "{kiosk}"),
        KIOSK,
        "reserve_reply",
        "ledger",
        ("kiosk",),
        False,
        "The answer to a reserve request: granted with a reservation_id, or refused with the "
        "reason (sold_out, ...).",
    ),
    "status": _channel(
        topics.status("{store}", "{kiosk}"),
        KIOSK,
        "status",
        "kiosk",
        ("pos", "ledger"),
        True,
        "Kiosk health, retained, every 30 s and on change; the last will sets state 'offline'. "
        "A POS may show it at the till; `ledger fleet` reads it centrally.",
    ),
    "program": _channel(
        topics.PROGRAM,
        (),
        "program",
        "ledger",
        ("kiosk",),
        True,
        "The active loyalty program, signed with the ledger's program key; a kiosk with that "
        "public key in [program] keys prices its previews with it. Ops name the version they "
        "were priced with. See docs/program.md.",
    ),
    "capabilities": _channel(
        topics.CAPABILITIES,
        (),
        "capabilities",
        "ledger",
        ("kiosk",),
        True,
        "v1.2. What the ledger understands: its contract version and how many ops one "
        "op_batch may carry. Retained; a kiosk that has not seen it sends one op per message.",
    ),
    "config": _channel(
        topics.config("{store}", "{kiosk}"),
        KIOSK,
        "config",
        "ledger",
        ("kiosk",),
        True,
        "Retained, signed config update (Ed25519, made by `ledger config-update`, see "
        "docs/operations.md): applied through a restart, kept once the broker is reached "
        "with it, dropped again when not.",
    ),
    "uplink": _channel(
        topics.uplink("{store}"),
        ("store",),
        "uplink",
        "broker",
        ("kiosk",),
        True,
        "Published by the store broker itself (Mosquitto's notification_topic): retained '1' "
        "or '0', the bridge to the ledger's broker is up or down. A kiosk that sees '0' counts "
        "itself offline: it keeps ops in its outbox and says points are saved.",
    ),
}
