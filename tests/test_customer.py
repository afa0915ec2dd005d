"""kiosk.customer: who is at the counter, and what survives a restart."""

import json

from drivers.base import Token
from kiosk.customer import Customer, Member, offers_enrolment, short_card, token_key


def test_attachment_round_trips_through_json():
    c = Customer(Token("ndef", "C-42", "nfc", verified=True), Member("m-1", "Ada", "gold", 240, True),
                 held=["coffee"], enrol=False, basket_id="b-1")
    data = json.loads(json.dumps(c.attachment_record()))
    back = Customer.from_attachment(data, "b-1")
    assert (back.token.kind, back.token.value, back.token.reader, back.token.verified) == (
        "ndef", "C-42", "nfc", True)
    assert back.member == c.member and back.held == ["coffee"] and back.basket_id == "b-1"
    assert back.answered, "restored figures are the ledger's, not a preview"


def test_short_card_names():
    assert short_card(Token("uid", "04A1B2C3", "sim")) == "Card ...B2C3"
    assert short_card(Token("qr", "MEMBER-0042", "cam")) == "Member"


def test_token_key_is_the_ledgers():
    assert token_key(Token("uid", "04aabb", "sim")) == token_key(Token("uid", "04aabb", "other"))
    assert token_key(Token("uid", "04AABB", "sim")) != token_key(Token("qr", "04AABB", "sim"))


def test_enrolment_is_offered_only_for_a_card_nobody_knows():
    t = Token("uid", "04AA", "sim")
    assert not offers_enrolment(Customer(t, Member())), "online, the ledger has not answered yet"
    assert offers_enrolment(Customer(t, Member(), answered=True))
    assert offers_enrolment(Customer(t, Member(), maybe_new=True))
    assert not offers_enrolment(Customer(t, Member(known=True), answered=True))
