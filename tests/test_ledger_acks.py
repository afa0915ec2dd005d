"""The ack builder (ledger.acks) makes what mqtt/schemas/ack.json allows and what the kiosk reads
back: applied (with and without refused redemptions), rejected, and the repeat of each."""

import uuid

import pytest

from ledger import acks
from mqtt import messages

OP_ID = str(uuid.uuid4())


def over_the_wire(ack: dict) -> dict:
    """What a kiosk decodes after the ledger encodes ``ack`` (both check the schema)."""
    return messages.decode("ack", messages.encode("ack", ack))


def test_an_applied_ack_carries_the_result_and_no_reason():
    ack = acks.applied(OP_ID, "m-1", 130, "silver", 15, 0)
    assert over_the_wire(ack) == {
        "v": 1,
        "op_id": OP_ID,
        "status": "applied",
        "member_id": "m-1",
        "balance": 130,
        "tier": "silver",
        "earned": 15,
        "redeemed": 0,
    }


def test_refused_redemptions_are_named_in_the_reason():
    ack = acks.applied(
        OP_ID,
        "m-1",
        5,
        "member",
        5,
        0,
        ["coffee needs 100 points, balance 0", "unknown reward cake"],
    )
    assert (
        over_the_wire(ack)["reason"]
        == "refused: coffee needs 100 points, balance 0; unknown reward cake"
    )


def test_a_long_reason_is_cut_to_what_the_schema_allows():
    many = [f"reward-{i} needs 100 points, balance 0" for i in range(20)]
    applied = over_the_wire(acks.applied(OP_ID, "m-1", 0, "member", 0, 0, many))
    rejected = over_the_wire(acks.rejected(OP_ID, "x" * 500))
    assert len(applied["reason"]) == len(rejected["reason"]) == 200
    assert applied["reason"].startswith("refused: reward-0 needs 100 points")


def test_a_rejected_ack_says_why():
    ack = over_the_wire(acks.rejected(OP_ID, "unknown card"))
    assert ack == {"v": 1, "op_id": OP_ID, "status": "rejected", "reason": "unknown card"}


@pytest.mark.parametrize(("first", "again"), [("applied", "duplicate"), ("rejected", "rejected")])
def test_a_repeat_is_the_first_answer_again(first, again):
    ack = (
        acks.applied(OP_ID, "m-1", 130, "silver", 15, 0)
        if first == "applied"
        else acks.rejected(OP_ID, "unknown card")
    )
    repeat = over_the_wire(acks.repeated(ack))
    assert repeat == {**ack, "status": again}
    assert ack["status"] == first  # the stored first answer is left as it was


def test_the_schema_would_refuse_an_overlong_reason():
    """The cut above is needed: the contract does not take a longer reason."""
    with pytest.raises(messages.BadMessage, match="ack"):
        messages.encode("ack", {"v": 1, "op_id": OP_ID, "status": "rejected", "reason": "x" * 201})
