"""/program (owner): the active program, an editor whose problems point at their line, a "what
would this basket earn" preview, publishing a new version, the version history with diffs.

One form holds the text, the preview basket and three buttons (``action``: check, preview,
publish), so all of it works without JavaScript. Publishing stores the version
(ledger.program_versions, audited); the running `ledger serve` publishes it to the kiosks,
signed and retained, within a few seconds. /program/diff?old=N&new=M shows two versions apart.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger import program_versions
from ledger.program_check import FORMATS, Checked, Problem, check_text
from ledger.program_preview import LINES, blank, preview, tier_ids
from ledger.programs import ProgramBook
from ledger.web.auth import require
from ledger.web.render import flash, render
from program.files import MAX_FILE, program_from_body

ACTIONS = ("check", "preview", "publish")


def _page(store, text: str | None = None, fmt: str | None = None) -> dict:
    """What every rendering of the page shows: the active version, the history, the text."""
    book = ProgramBook.load(store)
    history = program_versions.history(store)
    if text is None:
        if book.version is None:
            fmt, text = "toml", ""
        else:
            fmt, text = program_versions.editable(store, book.version, book.bodies[book.version])
    return {"active": book.active, "active_version": book.version, "history": history,
            "text": text, "format": fmt, "formats": FORMATS, "lines": LINES, "asked": blank(),
            "checked": None, "numbered": [], "result": None, "priced_with": None,
            "active_body": book.bodies.get(book.version), "tiers": tier_ids(
                book.bodies.get(book.version))}


@require("owner")
def program_page(request: Request) -> Response:
    with request.app.state.pool.store() as store:
        return render(request, "program.html", **_page(store))


@require("owner")
async def program_post(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    return await run_in_threadpool(_act, request, fields)


def _act(request: Request, form: dict[str, str]) -> Response:
    action = form.get("action", "")
    text, fmt = form.get("text", ""), form.get("format", "toml")
    problem = _form_problem(action, text, fmt)
    with request.app.state.pool.store() as store:
        if problem:
            page = _page(store, text[:MAX_FILE], fmt if fmt in FORMATS else "toml")
            page["checked"] = Checked(None, problem)
            return render(request, "program.html", status_code=400, **page)
        if action == "publish":
            return _publish(request, store, text, fmt)
        page = _page(store, text, fmt)
        page["checked"] = check_text(text, fmt)
        page["numbered"] = _numbered(text, page["checked"])
        if page["checked"].body is not None:
            page["tiers"] = tier_ids(page["checked"].body)
        if action == "preview":
            _preview(page, form)
            ok = not page["asked"].errors
        else:
            ok = page["checked"].body is not None
        return render(request, "program.html", status_code=200 if ok else 400, **page)


def _form_problem(action: str, text: str, fmt: str) -> Problem | None:
    if action not in ACTIONS:
        return Problem(f"unknown action {action[:20]!r}; use the Check, Preview or Publish button")
    if fmt not in FORMATS:
        return Problem(f"format must be one of {', '.join(FORMATS)}")
    if len(text.encode("utf-8")) > MAX_FILE:
        return Problem(f"the program is more than {MAX_FILE} bytes")
    if not text.strip():
        return Problem("the program text is empty")
    return None


def _publish(request: Request, store, text: str, fmt: str) -> Response:
    user = request.scope["user"]
    try:
        body = program_versions.publish(store, text, fmt, user.name, "web")
    except program_versions.PublishError as exc:
        page = _page(store, text, fmt)
        page["checked"] = exc.checked or Checked(None, Problem(str(exc)))
        page["numbered"] = _numbered(text, page["checked"])
        return render(request, "program.html", status_code=400, **page)
    flash(request, f"Version {body['version']} ({body['name']}) is published: running ledgers"
          " send it to the kiosks, signed, within a few seconds.")
    return RedirectResponse(request.url_for("program").path, status_code=303)


def _preview(page: dict, form: dict[str, str]) -> None:
    """Price the form's basket with the edited text's program, or the active one if the text
    has a problem (the page says which)."""
    body = page["checked"].body
    program = program_from_body(body) if body is not None else page["active"]
    page["priced_with"] = (f"the edited text (version {body['version']})" if body is not None
                           else f"the active program (version {page['active_version'] or 'default'}),"
                           " because the edited text has a problem")
    page["asked"], page["result"] = preview(program, form, body or page["active_body"])


def _numbered(text: str, checked: Checked) -> list[tuple[int, str, bool]]:
    """The text's lines, numbered, the problem's marked: a problem links to its line here."""
    problem = checked.problem
    if problem is None or problem.line is None:
        return []
    return [(n, line, n == problem.line)
            for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1)]


@require("owner")
def program_diff(request: Request) -> Response:
    params = request.query_params
    versions = [params.get(k, "").strip() for k in ("old", "new")]
    if not all(v.isdigit() and len(v) < 10 for v in versions):
        return render(request, "program_diff.html", status_code=400, old=None, new=None,
                      lines=None, problem="old and new are version numbers (from the history)")
    old, new = (int(v) for v in versions)
    with request.app.state.pool.store() as store:
        lines = program_versions.diff(store, old, new)
    if lines is None:
        return render(request, "program_diff.html", status_code=404, old=old, new=new,
                      lines=None, problem=f"there is no version {old} or no version {new}")
    return render(request, "program_diff.html", old=old, new=new, lines=lines, problem=None)


routes = [
    Route("/program", program_page, methods=["GET"], name="program"),
    Route("/program", program_post, methods=["POST"], name="program_post"),
    Route("/program/diff", program_diff, methods=["GET"], name="program_diff"),
]
