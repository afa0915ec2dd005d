"""NTAG 424 DNA SUN verification: NXP's published vectors, generated vectors, refusals, fuzz."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.sun import (
    CounterGuard,
    SunError,
    SunKeys,
    SunParams,
    SunResult,
    decrypt_file_data,
    decrypt_picc,
    diversify_an10922,
    make_sun_url,
    sdm_mac,
    session_keys,
    verify_sun_url,
)

ZERO = SunKeys(bytes(16), bytes(16))
H = bytes.fromhex

# NXP AN12196 rev 2.0, §3.4.4.2.1 "SUN with PICCData and SDMMAC over an empty input":
# factory keys (all zero), the tag's URL carries picc_data and cmac.
AN12196_URL = ("https://www.my424dna.com/?picc_data=EF963FF7828658A599F3041510671E88"
               "&cmac=94EED9EE65337086")
# AN12196 SDMENCFileData example (encrypted "xxxxxxxxxxxxxxxx", MAC input from enc= to cmac=).
AN12196_ENC_URL = ("https://www.my424dna.com/?picc_data=FDE4AFA99B5C820A2C1BB0F1C792D0EB"
                   "&enc=94592FDE69FA06E8E3B6CA686A22842B&cmac=C48B89C17A233B2C")
AN12196_ENC_URL2 = ("https://www.my424dna.com/?picc_data=FD91EC264309878BE6345CBE53BADF40"
                    "&enc=CEE9A53E3E463EF1F459635736738962&cmac=ECC1E7F6C6C73BF6")
ENC_PARAMS = SunParams(enc="enc", mac_input_from="enc")


def test_an12196_intermediate_values():
    uid, ctr = decrypt_picc(bytes(16), H("EF963FF7828658A599F3041510671E88"))
    assert (uid, ctr) == (H("04DE5F1EACC040"), 0x3D)
    _, mac_key = session_keys(bytes(16), uid, ctr)
    assert mac_key == H("3FB5F6E3A807A03D5E3570ACE393776F")
    assert sdm_mac(mac_key, b"") == H("94EED9EE65337086")


def test_an12196_url_verifies_to_uid_and_counter():
    res = verify_sun_url(AN12196_URL, ZERO)
    assert res.uid_hex == "04DE5F1EACC040"
    assert res.counter == 61


def test_an12196_encrypted_file_data():
    uid, ctr = decrypt_picc(bytes(16), H("FDE4AFA99B5C820A2C1BB0F1C792D0EB"))
    assert (uid, ctr) == (H("04958CAA5C5E80"), 1)
    enc_key, _ = session_keys(bytes(16), uid, ctr)
    assert enc_key == H("8097D73344D53F963B09E23E03B62336")
    assert decrypt_file_data(enc_key, ctr, H("94592FDE69FA06E8E3B6CA686A22842B")) == b"x" * 16
    res = verify_sun_url(AN12196_ENC_URL, ZERO, ENC_PARAMS)
    assert (res.uid_hex, res.counter, res.file_data) == ("04958CAA5C5E80", 1, b"x" * 16)


def test_an12196_mac_over_file_data():
    res = verify_sun_url(AN12196_ENC_URL2, ZERO, ENC_PARAMS)
    assert (res.uid_hex, res.counter, res.file_data) == ("04958CAA5C5E80", 8, b"x" * 16)


def test_plain_mirror():
    # Plain UID/counter mirror with factory keys, as NXP's demo back end (sdm.nfcdeveloper.com)
    # shows it; the counter is mirrored most significant byte first.
    url = "https://sdm.nfcdeveloper.com/tagpt?uid=041E3C8A2D6B80&ctr=000006&cmac=4B00064004B0B3D3"
    res = verify_sun_url(url, ZERO)
    assert (res.uid_hex, res.counter) == ("041E3C8A2D6B80", 6)


def test_an10922_diversification_vector():
    # NXP AN10922 §2.2.1 AES-128 example: UID || AID || system identifier "NXP Abu".
    key = diversify_an10922(H("00112233445566778899AABBCCDDEEFF"),
                            H("04782E21801D80") + H("3042F5") + b"NXP Abu")
    assert key == H("A8DD63A3B89D54B37CA802473FDA9175")


keys_st = st.builds(SunKeys, st.binary(min_size=16, max_size=16),
                    st.binary(min_size=16, max_size=16), st.booleans(),
                    st.binary(max_size=21))
uid_st = st.binary(min_size=7, max_size=7)
ctr_st = st.integers(0, 0xFFFFFF)
name_st = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(keys=keys_st, uid=uid_st, ctr=ctr_st, picc=name_st, mac=name_st)
def test_generated_round_trip(keys, uid, ctr, picc, mac):
    if picc == mac:
        mac += "m"
    params = SunParams(picc=picc, mac=mac)
    url = make_sun_url("https://loyalty.example/t", keys, uid, ctr, params)
    assert verify_sun_url(url, keys, params) == SunResult(uid, ctr)


def _reason(url: str, keys: SunKeys = ZERO, params: SunParams | None = None) -> str:
    with pytest.raises(SunError) as err:
        verify_sun_url(url, keys, params)
    return err.value.reason


@pytest.mark.parametrize("bit", range(64))
def test_flipped_mac_bit_refused(bit):
    mac = int("94EED9EE65337086", 16) ^ (1 << bit)
    url = AN12196_URL.replace("94EED9EE65337086", f"{mac:016X}")
    assert _reason(url) == "bad_mac"


def test_flipped_picc_bit_refused():
    url = AN12196_URL.replace("EF963FF7", "EF963FF6")
    assert _reason(url) in ("wrong_key", "bad_mac")


def test_wrong_meta_key_refused():
    assert _reason(AN12196_URL, SunKeys(b"\x01" * 16, bytes(16))) == "wrong_key"


def test_wrong_file_key_refused():
    assert _reason(AN12196_URL, SunKeys(bytes(16), b"\x01" * 16)) == "bad_mac"


def test_diversified_key_is_not_the_master():
    keys = SunKeys(b"\x11" * 16, b"\x22" * 16, diversify=True, system_id=b"shop")
    url = make_sun_url("https://x/t", keys, H("04AABBCCDDEE80"), 5)
    assert verify_sun_url(url, keys).counter == 5
    assert _reason(url, SunKeys(b"\x11" * 16, b"\x22" * 16)) == "bad_mac"


def test_file_data_altered_refused():
    url = AN12196_ENC_URL2.replace("CEE9A53E", "CEE9A53F")
    assert _reason(url, ZERO, ENC_PARAMS) == "bad_mac"


@pytest.mark.parametrize("cut", ["EF963FF7828658A599F3041510671E8", "94EED9EE6533708"])
def test_truncated_parameters_refused(cut):
    url = AN12196_URL.replace(cut, cut[:-1])
    assert _reason(url) == "malformed"


@pytest.mark.parametrize("url", [
    "https://www.my424dna.com/",
    "https://www.my424dna.com/?picc_data=EF963FF7828658A599F3041510671E88",
    "https://www.my424dna.com/?cmac=94EED9EE65337086",
    "https://x/?picc_data=EF963FF7828658A599F3041510671E8Z&cmac=94EED9EE65337086",
    AN12196_URL + "&cmac=94EED9EE65337086",
    "https://x/?uid=04DE5F1EACC040&cmac=94EED9EE65337086",
    "https://x/?picc_data=" + "0" * 5000,
])
def test_malformed_urls_refused(url):
    assert _reason(url) == "malformed"


def test_renamed_parameters():
    url = "https://l.example/c?e=EF963FF7828658A599F3041510671E88&m=94EED9EE65337086"
    assert verify_sun_url(url, ZERO, SunParams(picc="e", mac="m")).counter == 61
    assert _reason(url) == "malformed"  # default names are not there


def test_errors_are_value_errors_with_reason_and_text():
    with pytest.raises(ValueError, match="bad_mac: SDMMAC does not match"):
        verify_sun_url(AN12196_URL, SunKeys(bytes(16), b"\x01" * 16))


def test_bad_key_config_named():
    with pytest.raises(ValueError, match="meta_read key must be 16 bytes"):
        SunKeys(b"short", bytes(16))
    with pytest.raises(ValueError, match="SUN keys"):
        SunKeys.from_hex("zz", "00" * 16)


# --- replay guard ----------------------------------------------------------------------

def test_guard_refuses_same_and_lower_counter():
    guard = CounterGuard()
    res = verify_sun_url(AN12196_URL, ZERO)
    guard.check(res)
    with pytest.raises(SunError) as err:
        guard.check(res)
    assert err.value.reason == "replay"
    with pytest.raises(SunError):
        guard.check(SunResult(res.uid, 60))
    guard.check(SunResult(res.uid, 62))
    assert guard.last(res.uid) == 62


def test_guard_counts_per_card():
    guard = CounterGuard()
    guard.check(SunResult(b"\x04" + bytes(6), 10))
    guard.check(SunResult(b"\x04" + b"\x01" * 6, 1))
    assert guard.last(b"\x04" + bytes(6)) == 10


def test_guard_survives_restart(tmp_path):
    path = tmp_path / "sun.json"
    CounterGuard(path).check(SunResult(H("04DE5F1EACC040"), 61))
    with pytest.raises(SunError, match="replay"):
        CounterGuard(path).check(SunResult(H("04DE5F1EACC040"), 61))


def test_guard_unreadable_file_named(tmp_path):
    path = tmp_path / "sun.json"
    path.write_text("[1, 2")
    with pytest.raises(ValueError, match="sun.json unreadable"):
        CounterGuard(path)


# --- fuzz ------------------------------------------------------------------------------

def _verify_or_refuse(url: str, params: SunParams | None = None) -> None:
    try:
        verify_sun_url(url, ZERO, params)
    except SunError as exc:
        assert exc.reason in ("malformed", "wrong_key", "bad_mac")


@settings(max_examples=400)
@given(st.text(max_size=300))
def test_fuzz_any_text(text):
    _verify_or_refuse(text)
    _verify_or_refuse("https://x/?" + text, ENC_PARAMS)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_fuzz_any_bytes(data):
    _verify_or_refuse("https://x/?picc_data=" + data.decode("latin-1"))


@settings(max_examples=300)
@given(pos=st.integers(AN12196_ENC_URL.index("?"), len(AN12196_ENC_URL) - 1),
       char=st.characters())
def test_fuzz_mutated_valid_url(pos, char):
    # Any change to the query is refused, except a letter case change of hex outside the
    # MAC input, which still names the same bytes and so the same tap.
    url = AN12196_ENC_URL[:pos] + char + AN12196_ENC_URL[pos + 1:]
    try:
        res = verify_sun_url(url, ZERO, ENC_PARAMS)
    except SunError:
        return
    assert url.upper() == AN12196_ENC_URL.upper()
    assert res == verify_sun_url(AN12196_ENC_URL, ZERO, ENC_PARAMS)
