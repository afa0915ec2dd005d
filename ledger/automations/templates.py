"""An automation's email in the member's language: subject, plain text and HTML, from the
language's message file (messages/<language>.toml, Jinja texts) and the two layouts in
templates/. The HTML is autoescaped (a member named ``<b>`` stays text); the plain text is
not. Languages are the kiosk's four (display/locale); any other falls back to English."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

HERE = Path(__file__).parent
LANGUAGES = ("en", "de", "hi", "te")


@dataclass(frozen=True)
class Email:
    language: str
    subject: str
    text: str
    html: str


def language_for(preferred: str | None) -> str:
    """``de-AT`` -> ``de``; a language without a message file -> ``en``."""
    base = (preferred or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else "en"


@cache
def messages(language: str) -> dict:
    return tomllib.loads((HERE / "messages" / f"{language}.toml").read_text("utf-8"))


@cache
def _env(html: bool) -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=html,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render(automation: str, language: str | None, values: dict,
           unsubscribe_url: str | None = None) -> Email:
    """The email for ``automation``; ``values``: name, shop and the occasion's figures."""
    lang = language_for(language)
    texts = messages(lang)
    parts = {}
    for html in (False, True):
        env = _env(html)
        fill = {k: _fill(env, texts[k], values, html) for k in ("greeting", "signature", "why",
                                                                 "unsubscribe")}
        body = _fill(env, texts[automation]["body"], values, html)
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        subject = _fill(env, texts[automation]["subject"], values, html)
        layout = env.get_template("email.html.j2" if html else "email.txt.j2")
        parts[html] = (subject, layout.render(**fill, paragraphs=paragraphs, language=lang,
                                              subject=subject, unsubscribe_url=unsubscribe_url))
    return Email(lang, " ".join(parts[False][0].split()), parts[False][1], parts[True][1])


def _fill(env: Environment, text: str, values: dict, html: bool):
    rendered = env.from_string(text).render(values)
    return Markup(rendered) if html else rendered  # escaped once, by from_string
