"""`ledger web`: the back office (owners, staff, technicians), a Starlette app rendering Jinja2
templates on the server. See docs/back-office.md and ledger/web/app.py for how it is put together.
"""
