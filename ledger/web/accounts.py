"""Back-office accounts: a name, an Argon2 password hash, a role, and a disabled flag.

Roles: ``owner`` may do everything; ``staff`` members and adjustments; ``technician`` the fleet.
Every change is audited by the caller's transaction (``ledger users`` or a web page), through the
functions here, which take the actor and the channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger import audit
from ledger.events import now_iso

ROLES = ("owner", "staff", "technician")
MAX_NAME = 64
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; a bound keeps a request's work bounded

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str
    disabled: bool


class AccountError(ValueError):
    """A change to the accounts that cannot be made; the message says why."""


def name_problem(name: str) -> str:
    """Why ``name`` is no user name ("" when it is one): 1-64 printable characters, no spaces
    at the ends (any others are allowed: pages escape them)."""
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable() or name != name.strip():
        return f"a user name is 1 to {MAX_NAME} printable characters without spaces at the ends"
    return ""


def password_problem(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    return ""


def get(db, name: str) -> User | None:
    row = db.execute("SELECT name, role, created_at, disabled FROM web_users WHERE name = ?",
                     (name,)).fetchone()
    return None if row is None else User(row[0], row[1], row[2], bool(row[3]))


def all_users(db) -> list[User]:
    rows = db.execute("SELECT name, role, created_at, disabled FROM web_users ORDER BY name")
    return [User(r[0], r[1], r[2], bool(r[3])) for r in rows.fetchall()]


def add(store, name: str, password: str, role: str, actor: str, via: str) -> User:
    """Create a user (in one transaction with its audit entry)."""
    if why := name_problem(name) or password_problem(password):
        raise AccountError(why)
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    with store.transaction() as db:
        if get(db, name) is not None:
            raise AccountError(f"a user named {name!r} exists already")
        db.execute("INSERT INTO web_users (name, password_hash, role, created_at, disabled)"
                   " VALUES (?, ?, ?, ?, 0)", (name, _hasher.hash(password), role, now_iso()))
        audit.record(db, actor, via, "user.add", f"user:{name}", {"role": role})
    return get(store.db, name)


def disable(store, name: str, actor: str, via: str) -> None:
    with store.transaction() as db:
        user = get(db, name)
        if user is None:
            raise AccountError(f"no user named {name!r}")
        if user.disabled:
            raise AccountError(f"{name!r} is disabled already")
        db.execute("UPDATE web_users SET disabled = 1 WHERE name = ?", (name,))
        audit.record(db, actor, via, "user.disable", f"user:{name}")


def authenticate(store, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs (disabled or not: the caller refuses a disabled
    one, and may say so, the password being right); else None. An unknown
    name costs a hash check too, so timing does not tell which names exist. A hash made with
    older Argon2 parameters is replaced on success."""
    row = store.db.execute("SELECT password_hash FROM web_users WHERE name = ?",
                           (name,)).fetchone()
    stored = row[0] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(stored):
        with store.transaction() as db:
            db.execute("UPDATE web_users SET password_hash = ? WHERE name = ?",
                       (_hasher.hash(password), name))
    return get(store.db, name)


def allowed(user: User, roles: tuple[str, ...]) -> bool:
    """Whether ``user`` may open a page for ``roles`` (an owner may open every page; no roles:
    any logged-in user may)."""
    return not roles or user.role == "owner" or user.role in roles
