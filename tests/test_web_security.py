"""The back office refuses what it must (httpx against the real app on uvicorn, SQLite and
PostgreSQL): every route without login, the wrong role, a form without its CSRF token, a
foreign ``next``, too many wrong passwords; it escapes names and sets its security headers."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import httpx
import pytest
from starlette.routing import Route

from ledger import audit
from ledger.store import LedgerStore
from ledger.web import accounts
from ledger.web.app import routes
from ledger.web.pages import MEMBER, PUBLIC
from ledger.web.serve import Serving
from ledger.web.settings import WebSettings
from tests.web_support import add_users, web  # noqa: F401


def guarded_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the app but the public ones: new pages are picked up
    as they are listed in ledger/web/pages/__init__.py. Path parameters become "x"."""
    found = []
    for route in routes():
        if not isinstance(route, Route) or route.name in PUBLIC | MEMBER:
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        found += [(method, path) for method in sorted(route.methods - {"HEAD"})]
    return found


def test_every_page_but_the_public_ones_carries_a_role_guard():
    unguarded = [r.path for r in routes() if isinstance(r, Route) and r.name not in PUBLIC
                 and not hasattr(r.endpoint, "roles" if r.name not in MEMBER else "member")]
    assert unguarded == []
    assert ("GET", "/") in guarded_routes() and ("POST", "/logout") in guarded_routes()


def test_every_guarded_route_sends_an_anonymous_visitor_to_the_login(web):  # noqa: F811
    client = web.client()
    token = web.csrf(client)  # an anonymous session's token: the CSRF check passes
    for method, path in guarded_routes():
        answer = client.request(method, path, data={"csrf_token": token} if method != "GET"
                                else None)
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login?next="), (method, path)


@pytest.mark.parametrize("role", ["staff", "technician"])
def test_owner_pages_refuse_other_roles(web, role):  # noqa: F811
    client = web.client(role)
    answer = client.get("/audit")
    assert answer.status_code == 403
    assert f"you are logged in as {role}" in answer.text
    start = client.get("/")
    assert start.status_code == 200 and "Points outstanding" not in start.text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(web):  # noqa: F811
    client = web.client("owner")
    before = LedgerStore(web.db)
    logged = len(audit.entries(before.db))
    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post("/logout", data=data)
        assert answer.status_code == 403 and "Form expired or forged" in answer.text
    assert client.get("/audit").status_code == 200  # still logged in
    anonymous = web.client()
    name, password = web.users["owner"]
    refused = anonymous.post("/login", data={"name": name, "password": password})
    assert refused.status_code == 403 and anonymous.get("/").status_code == 303
    assert len(audit.entries(before.db)) == logged  # no logout, no login recorded
    before.close()


def test_a_user_name_holding_markup_is_shown_escaped(web):  # noqa: F811
    evil = "<script>alert(1)</script>"
    add_users(web.db, {"owner": (evil, "evil-password-1")})
    web.users["evil"] = (evil, "evil-password-1")
    client = web.client("evil")
    for path in ("/", "/audit"):
        page = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert evil not in page


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_next_never_leads_to_another_site(web, target):  # noqa: F811
    client = web.client()
    name, password = web.users["owner"]
    answer = client.post("/login", data={"name": name, "password": password, "next": target,
                                         "csrf_token": web.csrf(client)})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert target not in client.get("/login?next=" + target).text.replace("&#34;", '"')


def _try(web, client, name: str, password: str):  # noqa: F811
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf_token": web.csrf(client)})


def test_wrong_passwords_lock_the_name_even_for_the_right_one_and_across_restarts(web):  # noqa: F811
    client = web.client()
    name, password = web.users["owner"]
    statuses = [_try(web, client, name, f"wrong-{n}").status_code for n in range(22)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    right = _try(web, client, name, password)
    assert right.status_code == 429 and re.search(r"Try again in \d+ seconds", right.text)
    settings = WebSettings(secret=secrets.token_urlsafe(48), https=False)
    with Serving(web.db, settings) as second:  # another worker (or a restart) on the same db
        web2 = type(web)(second.base_url, web.db)
        assert _try(web2, web2.client(), name, password).status_code == 429
    other = web.client("staff")  # another name is not locked by this one
    assert other.get("/").status_code == 200


def test_many_names_from_one_address_lock_the_address(web):  # noqa: F811
    client = web.client()
    statuses = [_try(web, client, f"guess-{n}", "wrong-password").status_code for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    name, password = web.users["staff"]
    assert _try(web, client, name, password).status_code == 429


def test_security_headers_on_pages_errors_and_static_files(web):  # noqa: F811
    client = web.client()
    for path in ("/login", "/no-such-page", "/static/back-office.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # plain http: a test server
    cookie = web.client().get("/login").headers["set-cookie"]  # a new session's cookie
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_over_https_cookies_are_secure_and_hsts_is_sent(ledger_db):
    """The app as deployed (https, behind a TLS proxy): read here over the proxy's plain side."""
    with Serving(ledger_db, WebSettings(secret=secrets.token_urlsafe(48))) as serving:
        answer = httpx.get(serving.base_url + "/login")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in answer.headers["set-cookie"].lower()


def test_the_dashboard_shows_the_report_figures_and_refuses_a_bad_query(web):  # noqa: F811
    store = LedgerStore(web.db)
    store.add_member("Ana")
    store.add_member("Ben")
    store.close()
    client = web.client("owner")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    page = client.get(f"/?from={today}&to={today}").text
    members = re.search(r'<th scope="row">Members</th><td>(\d+)</td><td>(\d+)</td>', page)
    assert members and members.groups() == ("2", "0")
    for query, says in (("from=2026-13-01", "is not a date"),
                        ("from=2026-02-01&to=2026-01-01", "before it starts"),
                        ("store=%3Cb%3Enowhere", "no basket names a store")):
        answer = client.get("/?" + query)
        assert answer.status_code == 400 and says in answer.text, query
    assert "&lt;b&gt;nowhere" in client.get("/?store=%3Cb%3Enowhere").text


def test_the_audit_log_pages_back_and_filters_by_target(web):  # noqa: F811
    store = LedgerStore(web.db)
    with store.transaction() as db:
        for n in range(60):
            audit.record(db, "olga", "web", "points.adjust", f"m-{n % 2}", {"points": n})
    store.close()
    client = web.client("owner")
    first = client.get("/audit").text
    older = re.search(r'href="/audit\?before=(\d+)"', first)
    assert first.count("<tr><td>") == 50 and older
    rest = client.get(f"/audit?before={older.group(1)}").text
    assert "points: 0;" not in first and "points: 0" in rest
    only = client.get("/audit?target=m-1").text
    assert only.count("<td>m-1</td>") == 0 and only.count(">m-1</a>") == 30
    assert ">m-0</a>" not in only
    assert client.get("/audit?before=-3").status_code == 400


def test_accounts_refuse_bad_names_roles_and_passwords(ledger_db):
    store = LedgerStore(ledger_db)
    for name, password, role in ((" ana", "long-enough-1", "owner"), ("ana", "short", "owner"),
                                 ("ana", "long-enough-1", "root"), ("a\nb", "long-enough-1",
                                                                    "staff")):
        with pytest.raises(accounts.AccountError):
            accounts.add(store, name, password, role, "cli:test", "cli")
    assert accounts.all_users(store.db) == []
    store.close()
