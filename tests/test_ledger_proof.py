"""The ledger checks proof itself (real SQLite and PostgreSQL, real Ed25519 and AES-CMAC): a
kiosk's ``verified`` flag buys nothing, a forged or replayed proof is refused, a kiosk acts
only for the stores its policy names and within its redemption limits. The first two tests are
the two defects of issue "Trust the ledger can prove" (they fail on the code before it)."""

import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from codes import member_qr
from codes.card_signature import sign_card
from codes.keys import public_text
from codes.sun import SunKeys, make_sun_url, sun_proof
from ledger.apply import apply_op, lookup
from ledger.batch import apply_batch
from ledger.policy import KioskPolicy, KioskRules
from ledger.proof import ProofKeys
from ledger.service import LedgerService
from ledger.store import LedgerStore
from ledger.trust import Trust
from mqtt import messages, topics
from mqtt.client import MqttLink
from program.engine import DefaultProgram

HERE = ("store-1", "kiosk-1", 1)
ELSEWHERE = ("store-2", "kiosk-7", 1)
CARD = "04A1B2C3D4E5F6"
SUN_UID = bytes.fromhex("04C1D2E3F40506")
QR_KEY = Ed25519PrivateKey.generate()
CARD_KEY = Ed25519PrivateKey.generate()
SUN = SunKeys(bytes(range(16)), bytes(range(16, 32)))
STRICT = DefaultProgram(allow_unverified_uid=False)


def card_public(key):
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


KEYS = ProofKeys(sun=SUN, card_keys=(card_public(CARD_KEY),), qr_keys=(public_text(QR_KEY),))


def sale(token, redeem=(), total=1000, **kw):
    return {"v": 1, "op_id": str(uuid.uuid4()), "kiosk_seq": 1, "kind": "sale", "token": token,
            "basket_id": "b-1", "currency": "EUR", "total_minor": total,
            "redeem": [{"reward_id": r, "points": 100} for r in redeem],
            "created_at": "x", "program_version": 1, **kw}


def qr(member, code=None, verified=True):
    token = {"kind": "qr", "value": member, "verified": verified}
    if code:
        token["proof"] = {"code": code}
    return token


def sun_token(counter, keys=SUN):
    url = make_sun_url("https://l.example/t", keys, SUN_UID, counter)
    return {"kind": "sun", "value": SUN_UID.hex().upper(), "verified": True,
            "proof": sun_proof(url)}


@pytest.fixture
def store(ledger_db):
    s = LedgerStore(ledger_db)
    s.add_member("Ada", [CARD], "ada", opening_balance=777, home_store="store-1")
    s.add_member("Bob", [SUN_UID.hex()], "bob", opening_balance=500, home_store="store-1")
    s.add_member("Eve", [], "eve", opening_balance=300, home_store="store-2",
                 card_keys=["ndef:MEMBER-0042"])
    yield s
    s.close()


def apply(store, op, origin=HERE, trust=None, program=None):
    with store.transaction():
        if trust is None:  # the signature before the fix: what a caller of yesterday passes
            return apply_op(store, program or DefaultProgram(), op, origin)
        return apply_op(store, program or DefaultProgram(), op, origin, trust)


# -- the two defects -----------------------------------------------------------------------
def test_a_kiosks_verified_flag_spends_no_members_points(store):
    ack = apply(store, sale(qr("ada"), redeem=["coffee"]), origin=ELSEWHERE)
    assert ack["status"] == "rejected" and ack["reason"].startswith("unverified_token")
    assert store.balance("ada") == 777 and store.op_count() == 1  # remembered as refused
    uid_claim = sale({"kind": "uid", "value": CARD, "verified": True}, redeem=["coffee"])
    assert apply(store, uid_claim, program=STRICT)["status"] == "rejected"
    assert store.balance("ada") == 777


def test_a_kiosk_cannot_read_a_member_by_id(broker, store):
    service = LedgerService(store.path, broker.host, broker.port, program=DefaultProgram())
    assert service.start()
    replies = []
    link = MqttLink(host=broker.host, port=broker.port, client_id="thief", clean_start=True,
                    on_message=replies.append)
    link.subscribe(topics.lookup_reply("store-2", "kiosk-7"), 1)
    link.start()
    try:
        assert link.subscribed.wait(10) and service.link.subscribed.wait(10)
        link.publish(topics.lookup("store-2", "kiosk-7"),
                     messages.encode("lookup_request", {"v": 1, "member_id": "ada"}), 1,
                     correlation=b"c-1")
        deadline = time.monotonic() + 10
        while not replies and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        link.stop()
        service.stop()
    reply = json.loads(replies[0].payload)
    assert reply["found"] is False and "Ada" not in replies[0].payload.decode()
    assert "balance" not in reply


# -- signed QR codes -----------------------------------------------------------------------------
def test_a_signed_member_code_spends_and_a_changed_one_does_not(store):
    trust = Trust(KEYS)
    code = member_qr.app_code(QR_KEY, "loyalty", "ada")
    ack = apply(store, sale(qr("ada", code), redeem=["coffee"]), trust=trust)
    assert ack["status"] == "applied" and ack["redeemed"] == 100
    assert store.balance("ada") == 777 + 10 - 100
    others = member_qr.app_code(QR_KEY, "loyalty", "bob")  # Bob's code, Ada's id
    forged = member_qr.app_code(Ed25519PrivateKey.generate(), "loyalty", "ada")
    for token in (qr("ada", others), qr("ada", forged), qr("ada")):
        ack = apply(store, sale(token, redeem=["coffee"]), trust=trust)
        assert ack["status"] == "rejected" and ack["reason"].startswith("unverified_token"), ack
    assert store.balance("ada") == 687 and store.balance("bob") == 500


def test_an_app_code_is_good_in_a_late_op_but_not_in_a_late_lookup(store):
    old = member_qr.app_code(QR_KEY, "loyalty", "ada", now=time.time() - 3600)
    trust = Trust(KEYS)
    assert apply(store, sale(qr("ada", old)), trust=trust)["status"] == "applied"  # offline op
    reply = lookup(store, DefaultProgram(), {"token": qr("ada", old)}, HERE[:2], trust)
    assert reply["found"] is False and "expired" in reply["reason"]
    fresh = member_qr.app_code(QR_KEY, "loyalty", "ada")
    reply = lookup(store, DefaultProgram(), {"token": qr("ada", fresh)}, HERE[:2], trust)
    assert reply["found"] and reply["member"] == {"id": "ada", "tier": "member", "name": "Ada"}
    assert set(reply) == {"v", "found", "member", "balance", "rewards", "program_version"}


def test_without_qr_keys_no_qr_token_passes(store):
    code = member_qr.app_code(QR_KEY, "loyalty", "ada")
    ack = apply(store, sale(qr("ada", code)), trust=Trust())
    assert ack["status"] == "rejected" and "holds no QR keys" in ack["reason"]


# -- SUN messages ----------------------------------------------------------------------------------
def test_a_sun_message_proves_the_card_once(store):
    trust = Trust(KEYS)
    assert apply(store, sale(sun_token(5)), trust=trust, program=STRICT)["status"] == "applied"
    # Same tap, same kiosk: its enrolment and sale both count; another kiosk replaying it does not.
    assert apply(store, sale(sun_token(5)), trust=trust, program=STRICT)["status"] == "applied"
    replay = apply(store, sale(sun_token(5)), origin=("store-1", "kiosk-2", 1), trust=trust,
                   program=STRICT)
    assert replay["status"] == "rejected" and replay["reason"].startswith("sun_replay")
    older = apply(store, sale(sun_token(4)), trust=trust, program=STRICT)
    assert older["status"] == "rejected" and "not above 5" in older["reason"]
    assert apply(store, sale(sun_token(6)), trust=trust, program=STRICT)["status"] == "applied"
    assert store.balance("bob") == 530


def test_a_tampered_or_missing_sun_proof_is_not_a_verified_card(store):
    trust = Trust(KEYS)
    token = sun_token(9)
    token["proof"]["cmac"] = "00" * 8
    ack = apply(store, sale(token), trust=trust, program=STRICT)
    assert ack["status"] == "rejected" and "bad_mac" in ack["reason"]
    wrong_keys = sun_token(9, SunKeys(bytes(16), bytes(16)))
    assert apply(store, sale(wrong_keys), trust=trust, program=STRICT)["status"] == "rejected"
    bare = {"kind": "sun", "value": SUN_UID.hex().upper(), "verified": True}  # a v1 kiosk
    ack = apply(store, sale(bare), trust=trust, program=STRICT)
    assert ack["status"] == "rejected" and "plain card UIDs" in ack["reason"]
    assert apply(store, sale(bare), trust=trust)["status"] == "applied"  # program allows UIDs
    assert store.balance("bob") == 510


# -- signed card numbers and member ids ---------------------------------------------------------
def test_a_card_numbers_signature_is_checked(store):
    trust = Trust(KEYS, KioskPolicy({ELSEWHERE[:2]: KioskRules(frozenset({"store-2"}))}))
    good = {"kind": "ndef", "value": "MEMBER-0042",
            "proof": {"sig": sign_card(CARD_KEY, "MEMBER-0042")}}
    assert apply(store, sale(good), ELSEWHERE, trust)["status"] == "applied"
    bad = {**good, "proof": {"sig": sign_card(CARD_KEY, "MEMBER-0043")}}
    ack = apply(store, sale(bad), ELSEWHERE, trust)
    assert ack["status"] == "rejected" and "does not verify" in ack["reason"]


def test_a_member_id_is_never_who_an_op_is_for(store):
    alone = sale(None)
    del alone["token"]
    alone["member_id"] = "ada"
    assert apply(store, alone, trust=Trust(KEYS))["reason"].startswith("unverified_token")
    unknown_card = sale({"kind": "uid", "value": "0411223344556677"}, redeem=["coffee"],
                        member_id="ada", enrol=True)
    ack = apply(store, unknown_card, trust=Trust(KEYS))  # the customer chose to join
    assert ack["member_id"] != "ada" and ack["redeemed"] == 0 and "needs 100" in ack["reason"]
    assert store.balance("ada") == 777


# -- the kiosk policy -------------------------------------------------------------------------------
POLICY = KioskPolicy({("store-1", "kiosk-1"): KioskRules(frozenset({"store-1"}), 100, 150),
                      ("store-2", "kiosk-7"): KioskRules(frozenset({"store-2"}))})


def test_a_kiosk_acts_only_for_members_of_its_stores(store):
    trust = Trust(KEYS, POLICY)
    code = member_qr.card_code(QR_KEY, "loyalty", "ada")
    ack = apply(store, sale(qr("ada", code), redeem=["coffee"]), ELSEWHERE, trust)
    assert ack["status"] == "rejected" and ack["reason"].startswith("member_elsewhere")
    reply = lookup(store, DefaultProgram(), {"token": qr("ada", code)}, ELSEWHERE[:2], trust)
    assert reply == {"v": 1, "found": False, "program_version": reply["program_version"]}
    stranger = apply(store, sale(qr("ada", code)), ("store-1", "kiosk-9", 1), trust)
    assert stranger["reason"].startswith("kiosk_unknown")
    assert apply(store, sale(qr("ada", code)), HERE, trust)["status"] == "applied"
    enrolled = apply(store, sale({"kind": "uid", "value": "0499"}, enrol=True), ELSEWHERE, trust)
    assert store.home_stores([enrolled["member_id"]]) == {enrolled["member_id"]: "store-2"}
    assert store.balance("ada") == 787


def test_redemption_limits_per_op_and_per_day(store):
    trust = Trust(KEYS, POLICY)
    code = member_qr.card_code(QR_KEY, "loyalty", "ada")
    two = apply(store, sale(qr("ada", code), redeem=["coffee", "coffee"]), HERE, trust)
    assert two["redeemed"] == 100 and "limit of 100 points per op" in two["reason"]
    again = apply(store, sale(qr("ada", code), redeem=["coffee"]), HERE, trust)
    assert again["redeemed"] == 0 and "limit of 150 points per day (100 redeemed" in again["reason"]
    assert store.balance("ada") == 777 + 20 - 100
    assert [r["what"] for r in store.refusals()] == ["coffee", "coffee"]


def test_the_batch_way_keeps_the_policy(store):
    trust = Trust(KEYS, POLICY)
    items = [(sale({"kind": "uid", "value": CARD}), ELSEWHERE),
             (sale({"kind": "uid", "value": CARD}), HERE)]
    with store.transaction():
        results = apply_batch(store, lambda op: DefaultProgram(), items, trust)
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert store.balance("ada") == 787


def test_bad_key_and_policy_files_say_what_is_wrong(tmp_path):
    bad = tmp_path / "keys.toml"
    bad.write_text('[sun]\nmeta_key = "00"\nfile_key = "11"\n')
    with pytest.raises(ValueError, match="keys.toml: SUN keys: SUN meta_read key must be 16 bytes"):
        ProofKeys.load(bad)
    bad.write_text('[qr]\nkeys = ["short"]\n')
    with pytest.raises(ValueError, match="not 43 base64url characters"):
        ProofKeys.load(bad)
    policy = tmp_path / "policy.toml"
    policy.write_text('[kiosks."store-1/kiosk-1"]\nredeem_per_op = -5\n')
    with pytest.raises(ValueError, match="redeem_per_op must be a whole number"):
        KioskPolicy.load(policy)
    policy.write_text('[kiosks."store-1"]\n')
    with pytest.raises(ValueError, match="expected STORE/KIOSK"):
        KioskPolicy.load(policy)


def test_a_replaced_sun_card_is_refused_as_blocked_at_the_kiosk(store):
    from ledger.cards import replace_card

    replace_card(store, f"card:{SUN_UID.hex().upper()}", "ndef:MEMBER-0108", "web:sam", "web",
                 "lost")
    trust = Trust(KEYS)
    reply = lookup(store, STRICT, {"token": sun_token(20)}, asker=HERE[:2], trust=trust)
    assert reply["found"] is False and reply["reason"].startswith("card_blocked")
    ack = apply(store, sale(sun_token(21), enrol=True), trust=trust, program=STRICT)
    assert ack["status"] == "rejected" and ack["reason"].startswith("card_blocked")
    assert store.balance("bob") == 500
