"""The catalogs: every message the screens use is translated in every language, placeholders
survive translation, and the committed .mo files are compiled from the current .po files."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from display.i18n import LANGUAGES, LOCALE_DIR
from kiosk.config import SCHEMA

CONTENT = Path(__file__).parents[1] / "display" / "content.py"
MSGIDS = set(re.findall(r'_\("([^"]*)"\)', CONTENT.read_text())) | {"{points} pts"}
OTHERS = [lang for lang in LANGUAGES if lang != "en"]


def catalog(lang, ext):
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"kiosk.{ext}"
    with path.open("rb") as f:
        return read_po(f) if ext == "po" else read_mo(f)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_is_translated_with_its_placeholders(lang):
    po = catalog(lang, "po")
    for msgid in MSGIDS:
        message = po.get(msgid)
        assert message is not None and message.string, f"{lang}: {msgid!r} not translated"
        assert sorted(re.findall(r"\{\w+\}", message.string)) == sorted(
            re.findall(r"\{\w+\}", msgid)), f"{lang}: placeholders of {msgid!r}"


@pytest.mark.parametrize("lang", OTHERS)
def test_committed_mo_matches_po(lang):
    po, mo = catalog(lang, "po"), catalog(lang, "mo")
    as_dict = lambda cat: {m.id: m.string for m in cat if m.id}  # noqa: E731
    assert as_dict(mo) == as_dict(po), "run `.venv/bin/python -m display.i18n` and commit"


def test_config_offers_exactly_the_languages_there_are():
    assert SCHEMA["kiosk"]["language"].choices == LANGUAGES
