"""What `ledger web` is told: the session secret, whether it is reached over https, lifetimes."""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ledger.config_updates import Broker

MIN_SECRET = 32


@dataclass(frozen=True)
class WebSettings:
    secret: str  # signs the session cookie; from the secret file
    https: bool = True  # Secure cookies and HSTS; False only for a localhost test or demo
    idle_minutes: int = 30  # a session unused this long ends
    absolute_hours: int = 12  # and any session ends this long after its login
    pool_size: int = 8  # database connections kept for requests (see ledger/web/pool.py)
    # The member's page (ledger/web/pages/member.py): the keys its links are signed with
    # (ledger.member_links.LinkKeys; None: no member pages), and the QR key, program and
    # period of the member codes it shows (None: no code), as `ledger qr` makes them.
    links: object = None
    qr_key: object = None
    qr_program: str = "loyalty"
    qr_period: int = 30
    # The fleet page (ledger/web/pages/fleet.py): the kiosks' broker (None: no fleet), the state
    # file `ledger fleet` shares, the kiosks provisioned ("store/kiosk"), the key signing config
    # updates ("" : none sent), and how long a pending op may wait before it is an alert.
    broker: Broker | None = None
    fleet_state: str = ""
    kiosks: frozenset[str] = frozenset()
    config_key: str = ""
    pending_alert_minutes: float = 15.0


class SecretError(ValueError):
    """The secret file cannot be used; the message says why."""


def load_secret(path: str | Path) -> str:
    """The secret in ``path``, created (0600, random) when the file is missing. A file that
    others may read, or too short a secret, is refused."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(f"{path} may be read by others (mode {stat.filemode(mode)}):"
                          f" run `chmod 600 {path}`")
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read {path}: {exc}") from None
    if len(secret) < MIN_SECRET:
        raise SecretError(f"{path} holds {len(secret)} characters; a secret needs {MIN_SECRET}")
    return secret
