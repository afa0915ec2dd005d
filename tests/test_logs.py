"""Log lines are structured and carry no card numbers (hashed), but keep op and basket ids."""

import logging

from kiosk.logs import StructuredFormatter, card_ref, redact


def record(msg, *args):
    return logging.LogRecord("kiosk.session", logging.WARNING, __file__, 1, msg, args, None)


def test_uids_are_hashed_and_ids_kept():
    op_id = "45499a36-5347-4921-afab-bff804567143"
    text = redact(f"tap 04A1B2C3D4E5F6 then 04a1b2c3d4e5f6, 1A2B3C4D, op {op_id} basket b-0c79d1c3e9")
    assert "04A1B2C3D4E5F6" not in text.upper() and "1A2B3C4D" not in text
    assert text.count(card_ref("04A1B2C3D4E5F6")) == 2  # one card, one ref, whatever the case
    assert op_id in text and "b-0c79d1c3e9" in text


def test_structured_line_under_the_journal_has_no_time():
    line = StructuredFormatter(with_time=False).format(record('card %s said "%s"', "04AABBCC", "hi"))
    assert line == (f'level=warning logger=kiosk.session msg="card {card_ref("04AABBCC")}'
                    ' said \\"hi\\""')
    assert StructuredFormatter(with_time=True).format(record("x")).startswith("time=")


def test_a_qr_codes_counter_is_not_taken_for_a_card():
    """8 digits are a 4-byte UID only where a card is named; a member QR code's time step is
    not one (it would hash the very number a technician needs to see a replay)."""
    line = redact("QR code refused (replay): code for 'ada' step 58851234 already used;"
                  " text lk1.m.shop.ada.58851234.c2lnbmF0dXJl")
    assert line.count("58851234") == 2 and "card#" not in line
    assert redact("queue 12345678 ops") == "queue 12345678 ops"
    assert redact("card 12345678 refused") == f"card {card_ref('12345678')} refused"
    assert redact("uid=12345678") == f"uid={card_ref('12345678')}"
