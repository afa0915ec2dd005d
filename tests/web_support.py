"""Test support for the back office (ledger/web): the ``web`` fixture and helpers.

Use it in a test module with ``from tests.web_support import web  # noqa: F401`` (the fixture)
and ask for ``web`` (and pytest-playwright's ``page`` for a browser test):

- ``web`` starts the real app with uvicorn on a free port, on a background thread, over a fresh
  ledger from ``ledger_db`` (so each test runs on SQLite and on PostgreSQL), with one user per
  role (``web.users[role]`` is ``(name, password)``). ``web.base_url``, ``web.db`` (the ledger's
  path or URL; open a LedgerStore on it to arrange data or check what changed).
- ``web.login(page, role)`` logs a Playwright page in through the login form.
- ``web.client(role)`` is an httpx.Client on the app, logged in as ``role`` (None: anonymous);
  ``web.csrf(client, path)`` reads the CSRF token from the form on the page at ``path``.
- ``assert_accessible(page)`` runs axe-core on the page and fails on serious or critical
  violations, listing them.

Cookies are plain-http (``https=False``) because the server is http on 127.0.0.1; the Secure
flag and HSTS are checked on an https app in tests/test_web_security.py.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import httpx
import pytest

from ledger.audit import cli_actor
from ledger.store import LedgerStore
from ledger.web import accounts
from ledger.web.serve import Serving
from ledger.web.settings import WebSettings

USERS = {
    "owner": ("olga", "owner-password-1"),
    "staff": ("sam", "staff-password-1"),
    "technician": ("tess", "technician-password-1"),
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    base_url: str
    db: str
    users: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(USERS))

    def login(self, page, role: str) -> None:
        """Log ``page`` in as the fixture's user with ``role``, through the form."""
        name, password = self.users[role]
        page.goto(self.base_url + "/login")
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(self.base_url + "/")

    def client(self, role: str | None = None) -> httpx.Client:
        """An httpx client on the app (redirects not followed), logged in as ``role``."""
        client = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)
        if role is not None:
            name, password = self.users[role]
            answer = client.post("/login", data={"name": name, "password": password,
                                                 "csrf_token": self.csrf(client, "/login")})
            assert answer.status_code == 303, f"login as {role} failed: {answer.text[:500]}"
        return client

    @staticmethod
    def csrf(client: httpx.Client, path: str = "/login") -> str:
        """The CSRF token in the form of the page at ``path`` (the session's token)."""
        found = CSRF_RE.search(client.get(path).text)
        assert found, f"no csrf_token field on {path}"
        return found.group(1)


def add_users(db: str, users: dict[str, tuple[str, str]]) -> None:
    store = LedgerStore(db)
    try:
        for role, (name, password) in users.items():
            accounts.add(store, name, password, role, cli_actor(), "cli")
    finally:
        store.close()


@pytest.fixture
def web(ledger_db):
    """The back office on a free port over a fresh ledger, with an owner, staff and technician."""
    add_users(ledger_db, USERS)
    settings = WebSettings(secret=secrets.token_urlsafe(48), https=False)
    with Serving(ledger_db, settings) as serving:
        yield Web(serving.base_url, ledger_db)


def assert_accessible(page) -> None:
    """axe-core (axe-playwright-python's copy) on ``page``: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    listing = "\n".join(
        f"{v['impact']}: {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in bad)
    assert not bad, f"accessibility violations on {page.url}:\n{listing}"
