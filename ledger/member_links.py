"""Signed, expiring links to a member's page: ``https://<base>/me/<token>``.

The token is ``<purpose letter><member id>.<timestamp>.<signature>`` (itsdangerous'
TimestampSigner, HMAC with a key the ledger keeps, salted by purpose so a kiosk link can never
pass as an email link). It is short on purpose: the kiosk draws the link as a QR code on a
128x64 OLED, where every character costs modules. How long a link lives is the purpose's
(:data:`LIFETIMES`): a kiosk link is shown to the person at the counter for minutes, an email
link waits in an inbox for days.

A kiosk link opens one browser only (:func:`claim`): it is on the counter's screen, where
someone behind the customer could scan it too. An email link opens any of the member's devices.

Key rotation: the key file holds one key a line, oldest first; the last one signs, every one
verifies. :func:`rotate` appends a new key and keeps one previous, so links already handed out
still open until they expire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from itsdangerous.encoding import base64_decode, base64_encode

from mqtt.topics import ID_RE

LIFETIMES = {"kiosk": 15 * 60, "email": 7 * 24 * 3600}  # seconds
_LETTER = {"kiosk": "k", "email": "e"}
_PURPOSE = {letter: purpose for purpose, letter in _LETTER.items()}
KEPT_KEYS = 2  # the current key and one previous
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TOKEN = 120  # longer than any token we make: refuse before any HMAC work


class LinkRefused(ValueError):
    """A link that does not open a page; ``reason``: forged | expired | wrong_purpose | malformed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    member_id: str
    purpose: str
    issued_at: int  # Unix time the ledger signed it
    expires_at: int


class LinkKeys:
    """The ledger's link keys (oldest first); the last one signs."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("no link key: make one with `ledger members link-key FILE`")
        self.keys = keys

    def _signer(self, purpose: str) -> TimestampSigner:
        return TimestampSigner(self.keys, salt=f"member-link.{purpose}")

    def token(self, member_id: str, purpose: str = "kiosk") -> str:
        """A signed token for ``member_id``'s page, for ``purpose`` (kiosk or email)."""
        if purpose not in LIFETIMES:
            raise ValueError(f"link purpose {purpose!r}: use one of {', '.join(LIFETIMES)}")
        if not ID_RE.match(member_id):
            raise ValueError(f"member id {member_id!r} is not [a-z0-9-]{{1,32}}")
        return self._signer(purpose).sign(_LETTER[purpose] + member_id).decode()

    def verify(self, token: str, allowed: tuple[str, ...] = tuple(LIFETIMES)) -> Link:
        """The link ``token`` stands for; :class:`LinkRefused` if forged, expired, malformed or
        of a purpose not ``allowed``."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN or not token.isascii():
            raise LinkRefused("malformed", "this link is not one of ours")
        purpose = _PURPOSE.get(token[0])
        if purpose is None:
            raise LinkRefused("malformed", "this link is not one of ours")
        try:
            value, issued = self._signer(purpose).unsign(
                token, max_age=LIFETIMES[purpose], return_timestamp=True)
        except SignatureExpired:
            raise LinkRefused("expired", "this link has expired: ask for a new one") from None
        except BadSignature:
            raise LinkRefused("forged", "this link is not valid (altered or not ours)") from None
        if not _canonical(token.rsplit(".", 1)[1]):
            raise LinkRefused("forged", "this link is not valid (altered or not ours)")
        if purpose not in allowed:
            raise LinkRefused("wrong_purpose", f"a {purpose} link cannot be used here")
        member_id = value.decode()[1:]
        at = int(issued.timestamp())
        return Link(member_id, purpose, at, at + LIFETIMES[purpose])


def _canonical(signature: str) -> bool:
    """Is ``signature`` the one spelling of its bytes? The last base64 character carries bits
    the decoder drops, so three other spellings of a signature check too: each would be a new
    token text, and a kiosk link (one opener, claimed by its text) could be opened again."""
    return base64_encode(base64_decode(signature)).decode() == signature


def claim(db, token: str, link: Link) -> bool:
    """Record that ``token`` (a kiosk link) opened a page; False when it already had. A kiosk
    link is shown on the counter's screen where others may see it: only its first opener gets
    the member's page. Uses older than any link's lifetime are forgotten."""
    now = int(time.time())
    cutoff = _iso(now - max(LIFETIMES.values()) - 86400)
    db.execute("DELETE FROM member_link_uses WHERE used_at < ?", (cutoff,))
    digest = hashlib.sha256(token.encode()).hexdigest()
    cur = db.execute("INSERT INTO member_link_uses (token_hash, member_id, used_at)"
                     " VALUES (?, ?, ?) ON CONFLICT (token_hash) DO NOTHING",
                     (digest, link.member_id, _iso(now)))
    return cur.rowcount == 1


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def url(base: str, token: str) -> str:
    """The page's address: ``base`` (scheme and host, maybe a path) + ``/me/<token>``."""
    return f"{base.rstrip('/')}/me/{token}"


def check_base(base: str) -> str:
    """A base URL for links: https (http only for localhost), no query or fragment."""
    m = re.match(r"^(https://[^/?#\s]+|http://(localhost|127\.0\.0\.1)(:\d+)?)(/[^?#\s]*)?$", base)
    if not m:
        raise ValueError(f"web URL {base!r}: give https://host[/path] (http only for localhost)")
    return base.rstrip("/")


def load(path: str | os.PathLike) -> LinkKeys:
    """The keys in ``path``; ValueError naming the file and the line that is wrong."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise ValueError(f"link key file {p}: {exc.strerror}") from None
    keys = []
    for n, line in enumerate(lines, 1):
        if line.strip() and not line.startswith("#"):
            if not _KEY_RE.match(line.strip()):
                raise ValueError(f"link key file {p}, line {n}: not 64 hex digits")
            keys.append(line.strip().encode())
    if not keys:
        raise ValueError(f"link key file {p}: no key in it")
    return LinkKeys(keys)


def create(path: str | os.PathLike) -> None:
    """A new key file (mode 0600); refuses to overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_header() + secrets.token_hex(32) + "\n")


def rotate(path: str | os.PathLike) -> None:
    """Append a new signing key, keep one previous (links it signed still open), drop older."""
    keys = [k.decode() for k in load(path).keys][-(KEPT_KEYS - 1):] + [secrets.token_hex(32)]
    tmp = Path(f"{path}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_header() + "".join(k + "\n" for k in keys))
    os.replace(tmp, path)  # never half a key file


def _header() -> str:
    return "# member-page link keys, oldest first; the last signs (ledger members link-key)\n"
