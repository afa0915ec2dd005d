"""/audit (owner): the audit log, newest first, 50 a page, optionally about one target.

Query string: ``target`` (exact, e.g. ``user:ana`` or a member id) and ``before`` (the ``seq``
the next page starts under, from the page's "older" link).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import audit
from ledger.web.auth import require
from ledger.web.render import render

PAGE = 50
MAX_TARGET = 200


def _query(params) -> tuple[str | None, int | None, list[str]]:
    problems = []
    target = params.get("target", "").strip() or None
    if target is not None and (len(target) > MAX_TARGET or not target.isprintable()):
        problems.append(f"a target is at most {MAX_TARGET} printable characters")
        target = None
    before = params.get("before", "").strip() or None
    if before is not None and not (before.isdigit() and 0 < int(before) < 2**63):
        problems.append("“before” is a positive whole number (from the “older” link)")
        before = None
    return target, None if before is None else int(before), problems


@require("owner")
def audit_log(request: Request) -> Response:
    target, before, problems = _query(request.query_params)
    with request.app.state.pool.store() as store:
        entries = audit.entries(store.db, target=target, before=before, limit=PAGE + 1)
    older = entries[PAGE - 1].seq if len(entries) > PAGE else None
    return render(request, "audit.html", status_code=400 if problems else 200,
                  entries=entries[:PAGE], target=target or "", older=older, problems=problems)


routes = [Route("/audit", audit_log, methods=["GET"], name="audit")]
