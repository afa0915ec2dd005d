"""Email through SMTP (smtplib): the settings, the message, one connection per run.

Settings come from a TOML file's ``[smtp]`` table (`--smtp-config`, env LEDGER_SMTP_CONFIG) and
LEDGER_SMTP_* environment variables, which win (docs/automations.md). The password is read from
the file, a ``password_file`` or LEDGER_SMTP_PASSWORD, and never appears in a message or log;
nor do addresses: the log names the member id only.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import tomllib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import quote

from ledger.automations.templates import Email

SECURITY = ("starttls", "ssl", "none")
ENV = {"host": "LEDGER_SMTP_HOST", "port": "LEDGER_SMTP_PORT", "security": "LEDGER_SMTP_SECURITY",
       "username": "LEDGER_SMTP_USER", "password": "LEDGER_SMTP_PASSWORD",
       "sender": "LEDGER_SMTP_FROM", "ca_file": "LEDGER_SMTP_CA_FILE"}
KEYS = (*ENV, "password_file", "timeout_s", "reply_to")


class MailConfigError(ValueError):
    """SMTP settings that cannot be used; the message names the key (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # a private CA to trust (default: the system's)
    timeout_s: int = 30
    reply_to: str | None = None

    def __repr__(self) -> str:  # no password in a traceback or a log
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r})"


def load(path: str | None, environ: dict | None = None) -> SmtpSettings | None:
    """The SMTP settings, or None when neither a file nor LEDGER_SMTP_HOST gives any."""
    environ = os.environ if environ is None else environ
    values = _file(Path(path)) if path else {}
    values |= {key: environ[name] for key, name in ENV.items() if environ.get(name)}
    if not values:
        return None
    return _check(values)


def _file(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise MailConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MailConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("smtp")
    if not isinstance(table, dict):
        raise MailConfigError(f"{path}: needs an [smtp] table")
    unknown = set(table) - set(KEYS)
    if unknown:
        raise MailConfigError(f"{path}: smtp.{sorted(unknown)[0]} is not a setting;"
                              f" known: {', '.join(KEYS)}")
    if "password_file" in table:
        try:
            table["password"] = Path(str(table.pop("password_file"))).read_text("utf-8").strip()
        except OSError as exc:
            raise MailConfigError(f"{path}: smtp.password_file: {exc.strerror}") from None
    return table


def _check(v: dict) -> SmtpSettings:
    if not isinstance(v.get("host"), str) or not v["host"].strip():
        raise MailConfigError("smtp.host (LEDGER_SMTP_HOST) is missing")
    sender = v.get("sender")
    if not isinstance(sender, str) or "@" not in parseaddr(sender)[1]:
        raise MailConfigError("smtp.sender (LEDGER_SMTP_FROM) must be an address like"
                              " 'Coffee Club <club@shop.example>'")
    security = v.get("security", "starttls")
    if security not in SECURITY:
        raise MailConfigError(f"smtp.security must be one of {', '.join(SECURITY)}, not {security!r}")
    port = _number(v.get("port", 465 if security == "ssl" else 587), "port", 1, 65535)
    if bool(v.get("username")) != bool(v.get("password")):
        raise MailConfigError("smtp.username and smtp.password go together (give both or neither)")
    return SmtpSettings(v["host"].strip(), sender, port, security, v.get("username") or None,
                        v.get("password") or None, v.get("ca_file") or None,
                        _number(v.get("timeout_s", 30), "timeout_s", 1, 300), v.get("reply_to"))


def _number(value, key: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise MailConfigError(f"smtp.{key} must be a whole number from {low} to {high}")
    return number


def message(settings: SmtpSettings, to_name: str, to_address: str, email: Email,
            automation: str, consent_url: str | None = None) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, and a List-Unsubscribe header
    (a mailto: to the shop, and the member's consent page when there is one; RFC 2369/8058)."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = Address(display_name=to_name, addr_spec=to_address)
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].split("@")[-1])
    msg["X-Loyalty-Automation"] = automation
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    targets = [f"<mailto:{parseaddr(settings.sender)[1]}?subject={quote('unsubscribe')}>"]
    if consent_url:
        targets.insert(0, f"<{consent_url}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Unsubscribe"] = ", ".join(targets)
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    msg["Content-Language"] = email.language  # after the body: set_content drops Content-*
    return msg


class Mailer:
    """One SMTP session (``with Mailer(settings) as mailer: mailer.send(msg)``)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        context = ssl.create_default_context(cafile=s.ca_file)
        if s.security == "ssl":
            self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            if s.security == "starttls":
                self.smtp.starttls(context=context)
        if s.username:
            self.smtp.login(s.username, s.password)
        return self

    def send(self, msg: EmailMessage) -> None:
        """Hand ``msg`` to the server; raises smtplib.SMTPException or OSError if it did not
        take it."""
        self.smtp.send_message(msg)

    def __exit__(self, *exc) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
