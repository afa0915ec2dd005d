"""Card numbers from NDEF (URI and Text records, signed or not), the token policy, fuzz."""

from __future__ import annotations

import ndef
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card_apdu import CardDataError, read_ndef
from drivers.card_token import CardRejected, TokenPolicy, token_fields
from drivers.ndef_card import NdefCardError, NdefCardPolicy, card_from_ndef, sign_card
from drivers.sun import SunKeys, SunParams, make_sun_url
from drivers.tap import TapTracker
from tests.pcsc_stack import VirtualCard, type2_memory

PROGRAM = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = PROGRAM.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
SIGNED = NdefCardPolicy(public_key=PUB, require_signature=True)


def msg(*records) -> bytes:
    return b"".join(ndef.message_encoder(list(records)))


def test_uri_query_parameter():
    card = card_from_ndef(msg(ndef.UriRecord("https://l.example/c?c=MEMBER-0042")))
    assert (card.value, card.verified) == ("MEMBER-0042", False)


def test_uri_path_segment_only_when_configured_and_text_record():
    uri = msg(ndef.UriRecord("https://l.example/card/12345678/"))
    with pytest.raises(NdefCardError) as err:
        card_from_ndef(uri)
    assert err.value.reason == "no_card"
    assert card_from_ndef(uri, NdefCardPolicy(from_path=True)).value == "12345678"
    assert card_from_ndef(msg(ndef.TextRecord("CARD-77"))).value == "CARD-77"


def test_first_card_record_wins_after_other_records():
    data = msg(ndef.Record("urn:nfc:wkt:X", "1", b"zz"), ndef.TextRecord("FIRST-1"),
               ndef.TextRecord("SECOND-2"))
    assert card_from_ndef(data).value == "FIRST-1"


def test_signed_uri_and_text_verify():
    sig = sign_card(PROGRAM, "MEMBER-0042")
    uri = f"https://l.example/c?c=MEMBER-0042&s={sig}"
    assert card_from_ndef(msg(ndef.UriRecord(uri)), SIGNED).verified
    assert card_from_ndef(msg(ndef.TextRecord(f"MEMBER-0042.{sig}")), SIGNED).verified


def test_signature_of_another_card_refused():
    sig = sign_card(PROGRAM, "MEMBER-0042")
    with pytest.raises(NdefCardError) as err:
        card_from_ndef(msg(ndef.UriRecord(f"https://l.example/c?c=MEMBER-0043&s={sig}")), SIGNED)
    assert err.value.reason == "bad_signature"


def test_signature_by_another_key_refused():
    sig = sign_card(Ed25519PrivateKey.generate(), "MEMBER-0042")
    with pytest.raises(NdefCardError, match="does not verify"):
        card_from_ndef(msg(ndef.TextRecord(f"MEMBER-0042.{sig}")), SIGNED)


def test_unsigned_refused_when_required():
    with pytest.raises(NdefCardError) as err:
        card_from_ndef(msg(ndef.TextRecord("MEMBER-0042")), SIGNED)
    assert err.value.reason == "unsigned"


@pytest.mark.parametrize("data, reason", [
    (b"", "no_card"),
    (b"\xd1\x01\x10U\x04", "malformed"),  # record claims 16 bytes of payload, has 1
    (msg(ndef.TextRecord("ab")), "no_card"),  # too short for a card number
    (msg(ndef.TextRecord("bad card!")), "no_card"),
    (msg(ndef.Record("application/json", "x", b"{}")), "no_card"),
    (b"\x00" * 9000, "malformed"),
])
def test_bad_ndef_named(data, reason):
    with pytest.raises(NdefCardError) as err:
        card_from_ndef(data)
    assert err.value.reason == reason


@settings(max_examples=500)
@given(st.binary(max_size=600))
def test_fuzz_ndef_bytes(data):
    try:
        card_from_ndef(data, SIGNED)
    except NdefCardError:
        pass


@settings(max_examples=300)
@given(st.text(max_size=200), st.booleans())
def test_fuzz_records(text, as_uri):
    rec = ndef.UriRecord(text) if as_uri else ndef.TextRecord(text)
    try:
        data = msg(rec)
    except (ndef.EncodeError, ValueError):
        return
    pol = TokenPolicy(sun_keys=SunKeys(bytes(16), bytes(16)))
    try:
        token_fields(b"\x04" * 7, data, pol)
    except CardRejected:
        pass


# --- the token policy --------------------------------------------------------------------

def test_policy_sun_then_replay():
    keys = SunKeys(bytes(16), bytes(16))
    pol = TokenPolicy(sun_keys=keys)
    data = msg(ndef.UriRecord(make_sun_url("https://l.example/t", keys, b"\x04" * 7, 9)))
    assert token_fields(b"\x04" * 7, data, pol) == ("sun", "04" * 7, True)
    with pytest.raises(CardRejected, match="sun_replay"):
        token_fields(b"\x04" * 7, data, pol)


def test_policy_sun_without_keys_refused():
    keys = SunKeys(bytes(16), bytes(16))
    data = msg(ndef.UriRecord(make_sun_url("https://l.example/t", keys, b"\x04" * 7, 9)))
    with pytest.raises(CardRejected, match="sun_unconfigured"):
        token_fields(b"\x04" * 7, data, TokenPolicy())


def test_policy_plain_uid_only_where_allowed():
    assert token_fields(b"\x04\x01\x02\x03", None, TokenPolicy()) == ("uid", "04010203", False)
    with pytest.raises(CardRejected, match="uid_not_accepted"):
        token_fields(b"\x04\x01\x02\x03", None, TokenPolicy(accept_plain_uid=False))
    other = msg(ndef.Record("application/json", "x", b"{}"))  # NDEF, but no card record
    assert token_fields(b"\x04\x01\x02\x03", other, TokenPolicy())[0] == "uid"


UID = b"\x04\x01\x02\x03\x04\x05\x06"
SUN_KEYS = {"sun_meta_key": "00" * 16, "sun_file_key": "11" * 16}


def tap(ndef_msg: bytes, **section) -> tuple[str, str, bool]:
    return token_fields(UID, ndef_msg, TokenPolicy.from_section(section))


@pytest.mark.parametrize("uri", ["https://shop.example/welcome", "https://shop.example/",
                                 "https://shop.example/loyalty?lang=de"])
def test_shop_link_without_card_number_is_the_uid(uri):
    # A shop's web link on the card is no card number: the card counts by its UID.
    assert tap(msg(ndef.UriRecord(uri))) == ("uid", UID.hex().upper(), False)
    with pytest.raises(CardRejected, match="ndef_no_card"):
        tap(msg(ndef.UriRecord(uri)), accept_plain_uid=False)


def test_card_number_from_path_only_when_configured_and_matching_pattern():
    card = msg(ndef.UriRecord("https://l.example/m/MEMBER-0042/welcome"))
    assert tap(card)[0] == "uid"
    path = {"ndef_card_from_path": True, "card_number_pattern": "MEMBER-[0-9]{4}"}
    assert tap(card, **path) == ("ndef", "MEMBER-0042", False)
    assert tap(msg(ndef.UriRecord("https://l.example/welcome")), **path)[0] == "uid"


def test_card_number_pattern_narrows_the_rule():
    narrow = {"card_number_pattern": "MEMBER-[0-9]{4}"}
    assert tap(msg(ndef.UriRecord("https://l.example/c?c=MEMBER-0042")), **narrow)[1] == \
        "MEMBER-0042"
    with pytest.raises(CardRejected) as err:
        tap(msg(ndef.UriRecord("https://l.example/c?c=CARD-77")), **narrow)
    assert err.value.reason == "ndef_bad_number" and "MEMBER-[0-9]{4}" in err.value.detail
    assert tap(msg(ndef.TextRecord("CARD-77")), **narrow)[0] == "uid"  # text, not a number
    # A pattern cannot widen the rule: spaces are never part of a card number.
    with pytest.raises(CardRejected, match="ndef_bad_number"):
        tap(msg(ndef.UriRecord("https://l.example/c?c=MY%20CARD")), card_number_pattern=".+")


def test_card_parameter_that_is_no_card_number_is_refused():
    with pytest.raises(CardRejected) as err:
        tap(msg(ndef.UriRecord("https://l.example/c?c=ab")))
    assert err.value.reason == "ndef_bad_number" and "'ab'" in err.value.detail


@pytest.mark.parametrize("names", [{"picc": "e", "mac": "c"}, {"picc": "p", "mac": "m"},
                                   {"picc": "picc_data", "mac": "mac"}])
def test_sun_url_with_other_parameter_names_refused(names):
    keys = SunKeys(bytes(16), bytes.fromhex("11" * 16))
    url = make_sun_url("https://l.example/t", keys, UID, 5, SunParams(**names))
    with pytest.raises(CardRejected) as err:
        tap(msg(ndef.UriRecord(url)), **SUN_KEYS)
    assert err.value.reason in ("sun_bad_params", "sun_malformed")
    assert err.value.shown.endswith(f"[{err.value.reason}]")
    # The names in the config make it a verified tap of the card's UID.
    config = {f"sun_{k}_param": v for k, v in names.items()}
    assert tap(msg(ndef.UriRecord(url)), **SUN_KEYS, **config) == ("sun", UID.hex().upper(), True)


def test_sun_url_with_other_names_and_no_keys_says_unconfigured():
    url = make_sun_url("https://l.example/t", SunKeys(bytes(16), bytes(16)), UID, 5,
                       SunParams(picc="e", mac="c"))
    with pytest.raises(CardRejected, match="sun_unconfigured"):
        tap(msg(ndef.UriRecord(url)))


def test_card_number_pattern_checked_in_config():
    with pytest.raises(ValueError, match="reader.card_number_pattern"):
        TokenPolicy.from_section({"card_number_pattern": "MEMBER-[0-9"})


def test_policy_from_config_section_names_bad_key():
    with pytest.raises(ValueError, match="reader.sun_meta_key"):
        TokenPolicy.from_section({"sun_meta_key": "00", "sun_file_key": "00" * 16})
    pol = TokenPolicy.from_section({"sun_meta_key": "00" * 16, "sun_file_key": "11" * 16,
                                    "ndef_public_key": PUB.hex(), "accept_plain_uid": False})
    assert pol.sun_keys.file_read == b"\x11" * 16 and not pol.accept_plain_uid


# --- APDU reading against the virtual card's answers (no pcscd needed) --------------------

@pytest.mark.parametrize("size", [0, 10, 240, 245, 400])
def test_type2_tlv_lengths(size):
    # Around 254/255 bytes the TLV switches from a 1-byte to a 3-byte length.
    data = msg(ndef.TextRecord("CARD-1" + "x" * size))
    card = VirtualCard(0, b"\x04" * 7, pages=type2_memory(data))
    assert read_ndef(card.answer) == data


def test_type2_message_larger_than_tag_refused():
    data = msg(ndef.TextRecord("CARD-1" + "x" * 600))
    card = VirtualCard(0, b"\x04" * 7, pages=type2_memory(data))
    with pytest.raises(CardDataError, match="past the tag's data area"):
        read_ndef(card.answer)


@settings(max_examples=300)
@given(st.binary(min_size=16, max_size=600))
def test_fuzz_type2_memory(mem):
    card = VirtualCard(0, b"\x04" * 7, pages=b"\x00" * 12 + b"\xe1\x10\x3e\x00" + mem)
    try:
        read_ndef(card.answer)
    except CardDataError:
        pass


# --- debounce ------------------------------------------------------------------------------

def test_tracker_hold_bounce_and_failed_read():
    t = TapTracker(debounce_s=1.0)
    assert t.present(b"A", 0.0) and not t.present(b"A", 0.5)  # held: one tap
    assert t.absent(0.6)
    assert not t.present(b"A", 1.0)  # back within 1 s: the same tap
    assert not t.absent(1.1)  # and its leaving is not a second removal
    assert t.present(b"A", 2.2)  # back later: a new tap
    t.failed()
    assert not t.present(b"A", 2.3)  # a failed card held is not re-read each poll
    t.absent(2.4)
    assert t.present(b"A", 2.5)  # but tried again at once, it is read


# --- shipped system files ------------------------------------------------------------------

def test_udev_rules_cover_every_usb_reader_nfcpy_drives():
    import re
    from pathlib import Path

    nfc_device = pytest.importorskip("nfc.clf.device")
    text = (Path(__file__).parent.parent / "systemd" / "60-kiosk.rules").read_text()
    rules = set(re.findall(r'idVendor}=="([0-9a-f]{4})", ATTRS{idProduct}=="([0-9a-f]{4})"', text))
    wanted = {(f"{v:04x}", f"{p:04x}") for v, p in nfc_device.usb_device_map}
    assert wanted <= rules
