"""The back office's pages, one module per area, each with ``routes`` (a list of Starlette
Route/Mount). To add an area, write ``ledger/web/pages/<area>.py`` and add its name below: the
app (ledger/web/app.py) mounts every module listed here, in this order.

Every route's endpoint carries ``@require(...)`` (ledger/web/auth.py) except those in PUBLIC;
tests/test_web_security.py checks both for every route the app has.
"""

PAGES = [
    "ledger.web.pages.login",
    "ledger.web.pages.dashboard",
    "ledger.web.pages.audit",
    "ledger.web.pages.webhooks",
    "ledger.web.pages.program",
    "ledger.web.pages.fleet",
    "ledger.web.pages.members",
    "ledger.web.pages.segments",
    "ledger.web.pages.automations",
    "ledger.web.pages.member",
]

# Paths a visitor may open without logging in (their names, as in the Route).
PUBLIC = {"login", "login_form", "static", "member_link"}  # member_link checks its signed link
# The member's page: no staff login, a member session instead (``@member_only``, pages/member.py);
# tests/test_web_member_page.py checks each refuses a visitor without one.
MEMBER = {"member_page", "member_profile", "member_consent", "member_export", "member_forget",
          "member_logout"}
