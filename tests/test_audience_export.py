"""Audience exports in the email tools' import conventions (Mailchimp, Klaviyo, Brevo) and JSON
lines, from `ledger segments export` on a real SQLite file and a real PostgreSQL database:
the header each tool maps by itself, email consent holding now, a phone only with sms consent,
forgotten members never."""

import csv
import io
import json

import pytest

from ledger import profiles
from ledger.cli import main
from ledger.store import LedgerStore


@pytest.fixture
def news(ledger_db):
    """Four members labelled news: Ada (email + sms consent), Ben Carl Daly (email consent),
    Cy (email consent withdrawn), Dee (email consent, then forgotten)."""
    store = LedgerStore(ledger_db)
    people = {"ada": ("Ada Lovelace", "+447700900001"), "ben": ("Ben Carl Daly", "+4915100000"),
              "cy": ("Cy", None), "dee": ("Dee Dee", None)}
    for member_id, (name, phone) in people.items():
        store.add_member(name, member_id=member_id, opening_balance=10 * len(member_id))
        fields = {"email": f"{member_id}@example.org", "language": "de"}
        profiles.update(store, member_id, {**fields, **({"phone": phone} if phone else {})},
                        labels=["news"])
        profiles.set_consent(store, member_id, "email", True, "kiosk", "v1")
    profiles.set_consent(store, "ada", "sms", True, "kiosk", "v1")
    profiles.set_consent(store, "ben", "sms", False, "kiosk", "v1")  # Ben's phone stays home
    profiles.set_consent(store, "cy", "email", False, "web", "v1")
    profiles.forget(store, "dee")
    assert main(["segments", "add", "news", "--db", ledger_db,
                 "--rule", '{"all": [{"label": "news"}]}']) == 0
    yield ledger_db
    store.close()


def export(db: str, fmt: str, capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["segments", "export", "news", "--db", db, "--format", fmt, *extra]) == 0
    return capsys.readouterr().out


def test_mailchimp_columns_and_tags(news, capsys):
    rows = list(csv.DictReader(io.StringIO(export(news, "mailchimp", capsys))))
    assert list(rows[0]) == ["Email Address", "First Name", "Last Name", "Phone Number", "Tags",
                             "Language", "Points", "Member ID"]
    assert [(r["Email Address"], r["First Name"], r["Last Name"], r["Phone Number"], r["Tags"])
            for r in rows] == [
        ("ada@example.org", "Ada", "Lovelace", "+447700900001", "member,news"),
        ("ben@example.org", "Ben", "Carl Daly", "", "member,news")]
    assert [r["Points"] for r in rows] == ["30", "30"]


def test_klaviyo_has_email_first_and_says_subscribed(news, capsys):
    rows = list(csv.DictReader(io.StringIO(export(news, "klaviyo", capsys))))
    assert list(rows[0])[:5] == ["Email", "First Name", "Last Name", "Phone Number",
                                 "Email Marketing Consent"]
    assert [(r["Email"], r["Email Marketing Consent"], r["Phone Number"]) for r in rows] == [
        ("ada@example.org", "Subscribed", "+447700900001"), ("ben@example.org", "Subscribed", "")]


def test_brevo_is_semicolon_separated_with_its_attribute_names(news, capsys):
    text = export(news, "brevo", capsys)
    assert text.splitlines()[0] == "EMAIL;FIRSTNAME;LASTNAME;SMS;LANGUAGE;TIER;POINTS;EXT_ID"
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(r["EMAIL"], r["SMS"], r["EXT_ID"]) for r in rows] == [
        ("ada@example.org", "+447700900001", "ada"), ("ben@example.org", "", "ben")]


def test_jsonl_with_sms_consent_only(news, capsys):
    lines = export(news, "jsonl", capsys, "--consent", "sms").splitlines()
    assert [json.loads(x)["member_id"] for x in lines] == ["ada"]
    assert json.loads(lines[0])["phone"] == "+447700900001"


def test_a_tool_format_with_another_consent_is_refused(news, capsys):
    assert main(["segments", "export", "news", "--db", news, "--format", "mailchimp",
                 "--consent", "sms"]) == 2
    assert "email consent only" in capsys.readouterr().err
