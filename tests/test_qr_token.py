"""Member QR codes: the ledger signs, the kiosk verifies; hostile text is refused with a reason."""

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from codes import keys
from codes import member_qr as qrcodes
from codes.member_qr import QrRefused, Verifier
from drivers.base import ReadFailed, TokenRead
from drivers.qr_token import QrGate

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = keys.public_text(KEY)
NOW = 1_800_000_015.0  # step 60_000_000 of 30 s, 15 s in


def verifier(**kw) -> Verifier:
    return Verifier([PUB], "loyalty", **kw)


def app(member="ada", now=NOW, program="loyalty", key=KEY) -> str:
    return qrcodes.app_code(key, program, member, 30, now=now)


def refused(text, now=NOW, v=None) -> str:
    with pytest.raises(QrRefused) as info:
        (v or verifier()).verify(text, now)
    return info.value.reason


def test_valid_app_code():
    code = verifier().verify(app(), NOW)
    assert (code.kind, code.program, code.member) == ("m", "loyalty", "ada")


def test_printed_card_code_is_static_and_can_be_shown_again():
    v, card = verifier(), qrcodes.card_code(KEY, "loyalty", "bo", 3)
    assert v.verify(card, NOW).member == "bo"
    assert v.verify(card, NOW + 10 * 365 * 86400).counter == 3
    assert refused(card, v=verifier(cards=False)) == "card"


def test_code_rotates_with_the_period():
    assert app(now=NOW) == app(now=NOW + 10)
    assert app(now=NOW) != app(now=NOW + 30)


@pytest.mark.parametrize("shown_at, reason", [
    (NOW - 76, "expired"),  # three steps back: ended 75 s ago, grace is 30 s
    (NOW + 45, "future"),  # two steps ahead: starts in 45 s, skew is 15 s
])
def test_expired_and_future_codes(shown_at, reason):
    assert refused(app(now=shown_at)) == reason


def test_previous_step_is_still_accepted_within_grace():
    assert verifier().verify(app(now=NOW - 30), NOW).member == "ada"


def test_a_code_is_accepted_once_at_a_kiosk():
    v = verifier()
    v.verify(app(), NOW)
    assert refused(app(), NOW + 1, v) == "replay"
    assert v.verify(app("bo"), NOW + 1).member == "bo"  # another member, same step: fine
    assert v.verify(app(now=NOW + 30), NOW + 30).member == "ada"  # the next code: fine


def test_replay_memory_is_bounded():
    v = verifier(memory=3)
    for m in ("a", "b", "c", "d"):
        v.verify(app(m), NOW)
    assert len(v._seen) <= 3


def test_tampered_wrong_key_other_program():
    text = app()
    tampered = text.replace(".ada.", ".adb.")
    assert refused(tampered) == "signature"
    assert refused(app(key=Ed25519PrivateKey.generate())) == "signature"
    assert refused(app(program="rival")) == "program"
    flipped = text[:-5] + ("A" if text[-5] != "A" else "B") + text[-4:]
    assert refused(flipped) == "signature"


@pytest.mark.parametrize("text, reason", [
    ("x" * 100_000, "too-long"),
    (b"\xff\xfe\x00junk\x81", "not-text"),
    ("lk1.m.loyalty.ada\x1b[2J.1.sig", "control"),
    ("lk1.m.loyalty.ada\x00.1.sig", "control"),
    ("https://evil.example/lk1.m.loyalty.ada", "link"),
    ("www.example.com", "link"),
    ("lk2.m.loyalty.ada.1." + "A" * 86, "version"),
    ("lk1.x.loyalty.ada.1." + "A" * 86, "format"),
    ("lk1.m.loyalty.ADA.1." + "A" * 86, "format"),
    ("lk1.m.loyalty.ada.01." + "A" * 86, "format"),
    ("lk1.m.loyalty.ada.1." + "A" * 85, "format"),
    ("lk1.m.loyalty.ada.1.2." + "A" * 86, "format"),
    ("04A1B2C3D4E5F6", "format"),
    ("", "format"),
    ("café", "format"),
])
def test_hostile_or_broken_text(text, reason):
    assert refused(text) == reason


def test_no_keys_configured_refuses_everything():
    assert refused(app(), v=Verifier([], "loyalty")) == "no-keys"


def test_clock_not_set_refuses_app_codes_but_not_cards():
    assert refused(app(), now=None) == "clock"
    assert verifier().verify(qrcodes.card_code(KEY, "loyalty", "bo"), None).member == "bo"


def test_link_to_our_own_app_is_accepted():
    v = verifier(url_prefix="https://loyal.example/m/")
    assert v.verify("https://loyal.example/m/" + app(), NOW).member == "ada"
    assert refused("https://loyal.example.evil/m/" + app(), v=v) == "link"


@pytest.mark.parametrize("bad", ["", "short", "A" * 44, "!" * 43])
def test_bad_public_key_is_named(bad):
    with pytest.raises(ValueError, match="not 43 base64url"):
        Verifier([bad], "loyalty")


def test_sign_refuses_fields_a_reader_would_refuse():
    with pytest.raises(QrRefused, match="member"):
        qrcodes.card_code(KEY, "loyalty", "Not Valid")


def test_demo_code_verifies_with_the_demo_key():
    v = Verifier([qrcodes.DEMO_PUBLIC_KEY], qrcodes.DEMO_PROGRAM)
    assert v.demo and v.verify(qrcodes.demo_code("ada", now=NOW), NOW).member == "ada"


# -- fuzzing ----------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=700), st.binary(max_size=700)))
def test_parser_refuses_junk_with_a_reason(data):
    try:
        qrcodes.parse(data)
    except QrRefused as exc:
        assert exc.reason in qrcodes.SCREEN and exc.screen
    else:  # only well-formed codes parse; the fuzzer finding one is fine
        assert data.strip().startswith("lk1." if isinstance(data, str) else b"lk1.")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_character_change_is_refused(data):
    text = app()
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(st.characters(codec="utf-8").filter(lambda c: c != text[i]))
    mutated = text[:i] + ch + text[i + 1:]
    with pytest.raises(QrRefused):
        verifier().verify(mutated, NOW)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9-]{1,32}", fullmatch=True), st.integers(0, 10**12 - 1))
def test_every_valid_card_round_trips(member, issue):
    code = verifier().verify(qrcodes.card_code(KEY, "loyalty", member, issue), NOW)
    assert (code.member, code.counter) == (member, issue)


# -- the gate: what the session receives -----------------------------------------------------
class Clock:
    def __init__(self):
        self.wall, self.mono = NOW, 100.0

    def tick(self, s):
        self.wall += s
        self.mono += s


def gate(clock: Clock) -> QrGate:
    section = {"keys": [PUB], "program": "loyalty", "period": 30, "grace": 30, "skew": 15}
    return QrGate.from_config(section, "qr-test", clock=lambda: clock.wall,
                              monotonic=lambda: clock.mono)


def test_gate_gives_a_verified_member_token_once_per_showing():
    clock = Clock()
    g = gate(clock)
    ev = g.check(app() + "\r\n")
    assert isinstance(ev, TokenRead)
    assert (ev.token.kind, ev.token.value, ev.token.verified) == ("qr", "ada", True)
    clock.tick(0.2)
    assert g.check(app() + "\r\n") is None  # still in view
    clock.tick(3)
    again = g.check(app() + "\r\n")  # shown again later: a replay
    assert isinstance(again, ReadFailed) and again.reason == "Code already used"


def test_gate_refusal_is_shown_and_logged(caplog):
    g = gate(Clock())
    with caplog.at_level(logging.WARNING):
        ev = g.check("https://phish.example/login\x07")
    assert isinstance(ev, ReadFailed) and ev.reader == "qr-test"
    assert ev.reason == "Not a member code"
    assert "control" in caplog.text and "'\\x07'" in caplog.text


def test_gate_warns_about_the_demo_key(caplog):
    with caplog.at_level(logging.WARNING):
        QrGate.from_config({"keys": [qrcodes.DEMO_PUBLIC_KEY]}, "qr-demo")
    assert "DEMO key" in caplog.text


def test_the_example_in_the_docs_is_a_valid_code():
    from pathlib import Path

    doc = Path(__file__).parent.parent / "docs" / "qr-codes.md"
    example = next(w for w in doc.read_text().split() if w.startswith("lk1.m."))
    v = Verifier([qrcodes.DEMO_PUBLIC_KEY], "loyalty")
    assert v.verify(example, 60_000_000 * 30 + 10).member == "ada"
