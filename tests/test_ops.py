"""kiosk.ops: the ops and lookups the kiosk sends the ledger, checked against the contract."""

import pytest

from drivers.base import Token
from kiosk import ops
from mqtt import messages
from program.engine import DefaultProgram, Reward

TOKEN = Token("ndef", "CARD-0042", "nfc", verified=True)
STAMP = ops.Stamp("2026-01-01T00:00:00.000+00:00", offline=True, clock_synced=False,
                  program_version=7)
BASKET = {"basket_id": "b-1", "currency": "EUR", "total_minor": 1150,
          "items": [{"sku": "coffee", "qty": 4, "unit_minor": 350}]}


def sent(op: dict) -> dict:
    """As the replayer sends it: with the outbox's sequence number, validated."""
    return messages.validate("op", {**op, "kiosk_seq": 1})


def test_sale_op_carries_the_token_basket_and_stamp():
    op = sent(ops.sale_op(TOKEN, BASKET, 11, [{"reward_id": "coffee", "points": 100}], STAMP,
                          member_id="m-1"))
    assert op["v"] == messages.VERSION and op["kind"] == "sale"
    assert op["token"] == {"kind": "ndef", "value": "CARD-0042", "verified": True}
    assert (op["basket_id"], op["total_minor"], op["items"]) == ("b-1", 1150, BASKET["items"])
    assert (op["earn"], op["enrol"], op["member_id"]) == (11, False, "m-1")
    assert (op["offline"], op["clock_synced"], op["program_version"]) == (True, False, 7)
    assert op["created_at"] == STAMP.created_at
    assert ops.points_delta(op) == 11 - 100


def test_sale_op_without_a_known_member_leaves_it_to_the_ledger():
    op = ops.sale_op(TOKEN, BASKET, 3, [], STAMP, enrol=True)
    assert "member_id" not in op and op["enrol"] is True and sent(op)


def test_every_op_gets_its_own_id():
    first, second = (ops.sale_op(TOKEN, BASKET, 1, [], STAMP) for _ in range(2))
    assert first["op_id"] != second["op_id"]
    assert ops.sale_op(TOKEN, BASKET, 1, [], STAMP, op_id="x")["op_id"] == "x"


def test_enrol_op():
    op = sent(ops.enrol_op(TOKEN, STAMP))
    assert op["kind"] == "enrol" and op["enrol"] is True and ops.points_delta(op) == 0
    assert op["token"]["value"] == "CARD-0042" and "basket_id" not in op


def test_redemptions_price_held_rewards_and_skip_unknown_ones():
    program = DefaultProgram(catalogue=(Reward("coffee", "Free coffee", 100),
                                        Reward("cake", "Cake", 250)))
    redeem = ops.redemptions(program, ["coffee", "gone", "cake"])
    assert redeem == [{"reward_id": "coffee", "points": 100}, {"reward_id": "cake", "points": 250}]
    assert ops.redeemed_points(redeem) == 350


def test_lookup_request_is_valid():
    body = ops.lookup_request(Token("uid", "04AABB", "sim"))
    assert messages.validate("lookup_request", body) == {
        "v": 1, "token": {"kind": "uid", "value": "04AABB", "verified": False}}


def test_a_bad_token_is_caught_before_it_leaves():
    op = ops.sale_op(Token("uid", "", "sim"), BASKET, 1, [], STAMP)
    op["token"]["kind"] = "barcode"
    with pytest.raises(messages.BadMessage):
        messages.encode("op", {**op, "kiosk_seq": 1})
