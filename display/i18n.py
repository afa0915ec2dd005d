"""Languages of the customer's screen: gettext catalogs and Babel number formats.

Catalogs live in display/locale/<lang>/LC_MESSAGES/kiosk.po (the source) and
kiosk.mo (compiled, committed; rebuild with ``python -m display.i18n``). English
is the msgids themselves.
"""

from __future__ import annotations

import gettext
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"
LANGUAGES = ("en", "de", "hi", "te")


class UnknownLanguage(ValueError):
    """A language with no catalog; the message lists the ones there are."""


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"no screen translations for language {lang!r};"
                              f" available: {', '.join(LANGUAGES)}")
    return lang


@cache
def translations(lang: str) -> gettext.NullTranslations:
    check_language(lang)
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


class Words:
    """Translations and number formats for one language."""

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)
        self._t = translations(lang)

    def __call__(self, msgid: str, **values) -> str:
        text = self._t.gettext(msgid)
        return text.format(**values) if values else text

    def num(self, n: int) -> str:
        return format_decimal(n, locale=self.lang)

    def pts(self, n: int) -> str:
        return self("{points} pts", points=self.num(n))

    def money(self, minor: int, currency: str) -> str:
        digits = get_currency_precision(currency)
        return format_currency(Decimal(minor).scaleb(-digits), currency, locale=self.lang)

    def percent(self, ratio: float) -> str:
        return format_percent(max(0.0, min(1.0, ratio)), locale=self.lang)


def compile_all() -> list[Path]:
    """Compile every kiosk.po next to it into kiosk.mo (Babel, no msgfmt needed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    done = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)
        done.append(po.with_suffix(".mo"))
    return done


if __name__ == "__main__":
    for path in compile_all():
        print(path)
    sys.exit(0)
