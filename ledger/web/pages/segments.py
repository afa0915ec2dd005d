"""/segments (owner): every segment (the seven RFM ones and the rule segments) with its size now
and at each refresh; one segment's definition, members, the offers that target it and an
audience export; defining a rule segment with a preview of who is in it before it is saved.

The same functions as `ledger segments` (ledger.segment_book, ledger.segment_export): a saved
definition is what `ledger segments add` keeps, an export is the file `ledger segments export`
writes; removing one is `ledger segments remove` (a segment the program file defines is
changed there). Saving, exporting and removing are audited as the web user (``segment.add``,
``segment.export``, ``segment.remove``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger import audit, offers, segment_export
from ledger import segment_book as book
from ledger import segments as rules
from ledger.programs import ProgramBook
from ledger.store import LedgerError, LedgerStore
from ledger.web.auth import require
from ledger.web.render import error, flash, render
from program.errors import ProgramError
from program.segments import CHANNELS, ID, RFM_SEGMENTS, SegmentDef, parse_segment

SAMPLE = 20  # members shown of a segment or a preview
HISTORY = 6  # refreshes shown per segment on the list
EXAMPLE = '{"all": [{"last_purchase_days": {"min": 30}}, {"consent": "email"}]}'
SOURCES = {"rfm": "RFM", "program": "program file", "cli": "back office or CLI"}
ID_PROBLEM = re.compile(r"^segment(\.id| \([^)]*\)\.id)\b")
NAME_PROBLEM = re.compile(r"^segment \([^)]*\)\.name\b")


def _listing(store: LedgerStore) -> list[dict]:
    """Each segment: where it is defined, its size now (RFM: as of the last refresh) and its
    latest refreshes' sizes."""
    defs = book.definitions(store)
    found = [(s, "rfm", s) for s in RFM_SEGMENTS]
    found += [(s, src, d.name) for s, (d, src) in defs.items()]
    return [{"id": s, "source": SOURCES[src], "name": name, "size": len(book.members(store, s)),
             "history": book.sizes(store, s)[-HISTORY:]} for s, src, name in found]


def _sample(store: LedgerStore, ids: list[str]) -> list:
    return [m for m in (store.member(i) for i in ids[:SAMPLE]) if m is not None]


def _list_page(request: Request, status_code: int = 200, **form) -> Response:
    with request.app.state.pool.store() as store:
        listing = _listing(store)
    context = {"form": {"segment_id": "", "title": "", "rule": ""}, "errors": {},
               "preview": None, "example": EXAMPLE, **form}
    return render(request, "segments.html", status_code=status_code, segments=listing,
                  **context)


@require("owner")
def segments_page(request: Request) -> Response:
    """The list and the define form (``?edit=ID`` fills it with a saved segment)."""
    wanted = request.query_params.get("edit", "")
    if not ID.match(wanted):
        return _list_page(request)
    with request.app.state.pool.store() as store:
        body = book.written(store, wanted)
    if body is None:
        return _list_page(request)
    rule = {k: v for k, v in body.items() if k in ("all", "any")}
    form = {"segment_id": wanted, "title": body.get("name", ""),
            "rule": json.dumps(rule, ensure_ascii=False)}
    return _list_page(request, form=form)


def _problem_field(message: str) -> str:
    """Which field of the form a parser's message is about (it names the key)."""
    if ID_PROBLEM.match(message):
        return "segment_id"
    return "title" if NAME_PROBLEM.match(message) else "rule"


def _checked(form: dict[str, str]) -> tuple[dict | None, SegmentDef | None, dict[str, str]]:
    """The body `add` would keep, its definition, and the problems by field."""
    try:
        body = book.body_from_text(form["segment_id"], form["rule"], form["title"] or None)
    except ValueError as exc:
        return None, None, {"rule": f"The rule {exc}"}
    try:
        return body, parse_segment(body), {}
    except ProgramError as exc:
        return body, None, {_problem_field(str(exc)): str(exc)}


@require("owner")
async def define_segment(request: Request) -> Response:
    form = await request.form()
    fields = {k: str(form.get(k, "")).strip() for k in ("segment_id", "title", "rule", "action")}
    return await run_in_threadpool(_define, request, fields)


def _define(request: Request, form: dict[str, str]) -> Response:
    """Preview (who is in it now) or save (what `ledger segments add` does, audited)."""
    body, definition, errors = _checked(form)
    shown = {k: form[k] for k in ("segment_id", "title", "rule")}
    if errors:
        return _list_page(request, 400, form=shown, errors=errors)
    if form["action"] != "save":
        with request.app.state.pool.store() as store:
            ids = rules.members(store, definition.rule, dt.datetime.now(dt.UTC))
            before = book.definitions(store).get(definition.segment_id)
            preview = {"size": len(ids), "sample": _sample(store, ids),
                       "defined_in": before[1] if before else None}
        return _list_page(request, form=shown, preview=preview)
    user = request.scope["user"].name
    try:
        with request.app.state.pool.store() as store, store.transaction() as db:
            book.add(store, body)
            audit.record(db, user, "web", "segment.add", f"segment:{definition.segment_id}",
                         {"rule": body})
    except LedgerError as exc:  # the program file defines this id
        return _list_page(request, 400, form=shown, errors={"segment_id": str(exc)})
    flash(request, f"Segment {definition.segment_id} is saved.")
    return RedirectResponse(request.url_for("segment", segment=definition.segment_id).path, 303)


def _known(store: LedgerStore, name: str) -> tuple[SegmentDef | None, str] | None:
    """(definition or None for RFM, where it is defined); None for no such segment."""
    if not ID.match(name):
        return None
    try:
        definition = book.known(store, name)
    except LedgerError:
        return None
    source = "rfm" if definition is None else book.definitions(store)[name][1]
    return definition, source


def _no_such(request: Request, name: str) -> Response:
    return error(request, 404, "No such segment", f"There is no segment {name[:40]!r}.")


@require("owner")
def segment_page(request: Request) -> Response:
    name = request.path_params["segment"]
    with request.app.state.pool.store() as store:
        found = _known(store, name)
        if found is None:
            return _no_such(request, name)
        ids, written = book.members(store, name), book.written(store, name)
        context = {"segment_id": name, "definition": found[0], "source": SOURCES[found[1]],
                   "editable": found[1] == "cli",
                   "written": json.dumps(written, indent=2, ensure_ascii=False) if written else None,
                   "size": len(ids), "sample": _sample(store, ids),
                   "history": book.sizes(store, name),
                   "offers": offers.targeting(ProgramBook.load(store).active, name)}
    return render(request, "segment.html", formats=segment_export.FORMATS, channels=CHANNELS,
                  **context)


def _export_problem(fmt: str, consent: str | None) -> str | None:
    """The checks `ledger segments export` makes of --format and --consent."""
    if fmt not in segment_export.FORMATS:
        return f"the format is one of {', '.join(segment_export.FORMATS)}"
    if consent is not None and consent not in CHANNELS:
        return f"the consent is one of {', '.join(CHANNELS)}"
    if fmt in segment_export.TOOLS and consent not in (None, "email"):
        return (f"{fmt} holds members with email consent only; a consent of {consent}"
                " goes with csv or jsonl")
    return None


@require("owner")
async def export_segment(request: Request) -> Response:
    form = await request.form()
    fmt, consent = str(form.get("format", "")), str(form.get("consent", "")) or None
    return await run_in_threadpool(_export, request, request.path_params["segment"], fmt, consent)


def _export(request: Request, name: str, fmt: str, consent: str | None) -> Response:
    problem = _export_problem(fmt, consent)
    if problem:
        return error(request, 400, "Export refused", f"Nothing was exported: {problem}.")
    with request.app.state.pool.store() as store:
        if _known(store, name) is None:
            return _no_such(request, name)
        found = segment_export.audience(store, name, fmt, consent)  # outside the write lock
        with store.transaction() as db:
            audit.record(db, request.scope["user"].name, "web", "segment.export",
                         f"segment:{name}", {"format": fmt, "consent": consent,
                                             "rows": len(found)})
    out = io.StringIO()
    segment_export.write(found, fmt, out)
    extension, media = ("jsonl", "application/jsonl") if fmt == "jsonl" else ("csv", "text/csv")
    return Response(out.getvalue(), media_type=f"{media}; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{name}-{fmt}.{extension}"',
        "cache-control": "no-store"})


@require("owner")
def remove_segment(request: Request) -> Response:
    name = request.path_params["segment"]
    with request.app.state.pool.store() as store:
        found = _known(store, name)
        if found is None:
            return _no_such(request, name)
        if found[1] != "cli":
            why = ("one of the RFM segments the ledger computes" if found[1] == "rfm" else
                   "defined in the program file: change the program to remove it")
            return error(request, 400, "Not removed", f"Segment {name} is {why}.")
        with store.transaction() as db:
            book.remove(store, name)
            audit.record(db, request.scope["user"].name, "web", "segment.remove",
                         f"segment:{name}")
    flash(request, f"Segment {name} is removed.")
    return RedirectResponse(request.url_for("segments").path, 303)


routes = [
    Route("/segments", segments_page, methods=["GET"], name="segments"),
    Route("/segments", define_segment, methods=["POST"], name="segment_define"),
    Route("/segments/{segment}", segment_page, methods=["GET"], name="segment"),
    Route("/segments/{segment}/export", export_segment, methods=["POST"], name="segment_export"),
    Route("/segments/{segment}/remove", remove_segment, methods=["POST"], name="segment_remove"),
]
