"""The kiosk forwards each token's proof: what the readers and the QR gate read travels in the op
and the lookup (checked against the contract), and the ledger's check (ledger.proof) accepts it."""

import time

import ndef
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes import member_qr
from codes.keys import public_text
from codes.sun import SunKeys, make_sun_url, verify_sun_proof
from drivers.card_token import TokenPolicy, card_token
from drivers.ndef_card import NdefCardPolicy, sign_card
from drivers.qr_token import QrGate
from drivers.sun import SunParams
from kiosk import ops
from kiosk.customer import Customer, Member
from ledger.proof import ProofKeys, check_token
from mqtt import messages

SUN = SunKeys(bytes(range(16)), bytes(range(16, 32)))
UID = bytes.fromhex("04C1D2E3F40506")
STAMP = ops.Stamp("2026-01-01T00:00:00.000+00:00", offline=False, clock_synced=True,
                  program_version=1)
BASKET = {"basket_id": "b-1", "currency": "EUR", "total_minor": 100, "items": []}


def uri(text: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(text)]))


def carried(token):
    """The token as the op and the lookup carry it, both valid by the contract."""
    op = messages.validate("op", {**ops.sale_op(token, BASKET, 1, [], STAMP), "kiosk_seq": 1})
    lookup = messages.validate("lookup_request", ops.lookup_request(token))
    assert op["token"] == lookup["token"]
    return op["token"]


def test_a_sun_tap_forwards_what_the_ledger_checks_again():
    from drivers.base import Token

    pol = TokenPolicy(sun_keys=SUN, sun_params=SunParams())
    read = card_token(UID, uri(make_sun_url("https://l.example/t", SUN, UID, 12)), pol)
    body = carried(Token(read.kind, read.value, "nfc", verified=True, proof=read.proof))
    assert set(body["proof"]) == {"picc_data", "cmac"}
    assert verify_sun_proof(body["proof"], SUN).counter == 12
    checked = check_token(body, ProofKeys(sun=SUN), time.time(), live=False)
    assert checked.verified and checked.value == UID.hex().upper()


def test_a_plain_mirror_with_mac_input_is_forwarded_whole():
    params = SunParams(picc="x", uid="u", ctr="n", mac="m", mac_input_from="u")
    from codes.sun import sdm_mac, session_keys

    base = f"https://l.example/t?u={UID.hex().upper()}&n=00000C&m="
    text = base[base.index("u=") + 2:]
    mac = sdm_mac(session_keys(SUN.file_read, UID, 12)[1], text.encode()).hex().upper()
    read = card_token(UID, uri(base + mac), TokenPolicy(sun_keys=SUN, sun_params=params))
    assert read.proof == {"uid": UID.hex().upper(), "ctr": "00000C", "cmac": mac,
                          "mac_input": text}
    assert verify_sun_proof(read.proof, SUN).counter == 12


def test_a_signed_card_and_a_qr_code_forward_their_signatures():
    from drivers.base import Token

    card_key = Ed25519PrivateKey.generate()
    pub = card_key.public_key().public_bytes_raw()
    pol = TokenPolicy(ndef=NdefCardPolicy(public_key=pub))
    read = card_token(UID, uri(f"https://l.example/c?c=MEMBER-0042&s="
                               f"{sign_card(card_key, 'MEMBER-0042')}"), pol)
    body = carried(Token(read.kind, read.value, "nfc", read.verified, proof=read.proof))
    assert check_token(body, ProofKeys(card_keys=(pub,)), time.time(), live=True).verified
    qr_key = Ed25519PrivateKey.generate()
    gate = QrGate(member_qr.Verifier([public_text(qr_key)], "loyalty"), "cam")
    event = gate.check(member_qr.app_code(qr_key, "loyalty", "ada"))
    body = carried(event.token)
    assert body["proof"]["code"].startswith("lk1.m.loyalty.ada.")
    keys = ProofKeys(qr_keys=(public_text(qr_key),))
    assert check_token(body, keys, time.time(), live=True).value == "ada"


def test_a_restarted_kiosk_still_has_the_proof_of_an_attached_customer():
    from drivers.base import Token

    token = Token("qr", "ada", "cam", verified=True, proof={"code": "lk1.c.loyalty.ada.1.x"})
    saved = Customer(token, Member(member_id="ada")).attachment_record()
    again = Customer.from_attachment(saved, "b-1")
    assert again.token.proof == token.proof
    old = {k: v for k, v in saved.items() if k != "proof"}  # saved before this version
    assert Customer.from_attachment(old, "b-1").token.proof is None
