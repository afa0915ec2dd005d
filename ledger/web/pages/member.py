"""The member's own page, reached by a signed link (ledger.member_links): /me/<token> checks the
link and starts a member session (ledger/web/member_session.py), then /me shows the member their
balance, tier and the way to the next, points expiring, rewards and offers, history and the
rotating member QR code the kiosk's camera accepts; forms complete the profile, give or withdraw
consent, download the data or erase it. Every change is audited with actor ``member:<id>``.

A member sees only the member their session names: no page takes a member id from the request.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ledger import audit, member_links, profiles
from ledger import profile_fields as pf
from ledger.member_codes import codes_ahead
from ledger.member_page import page_data
from ledger.programs import ProgramBook
from ledger.web import member_session
from ledger.web.render import flash, render

FIELDS = {"name": pf.name, "email": pf.email, "phone": pf.phone, "birth_date": pf.birth_date,
          "language": pf.language}
WORDING = "web-1"  # the version of the consent texts below; kept with each consent row
CONSENT_TEXT = {
    "email": "News and offers by email",
    "sms": "News and offers by text message",
    "phone": "Calls about offers",
    "post": "Letters about offers",
    "push": "Notifications on this phone",
}


def member_only(endpoint):
    """The member the session names, passed to ``endpoint(request, member_id)``; without a
    live session (none, forged, expired, or the member erased): a page saying how to get in."""

    @functools.wraps(endpoint)
    async def guarded(request: Request):
        member_id = member_session.member_of(request)
        if member_id is not None and not await run_in_threadpool(_alive, request, member_id):
            member_id = None
        if member_id is None:
            answer = _message(request, 401, "Open your link again",
                              "This page opens from your personal link: scan the code the kiosk"
                              " shows (hold select while your card is read) or use the link we"
                              " sent you.")
            member_session.end(request, answer)
            return answer
        return await endpoint(request, member_id)

    guarded.member = True  # tests/test_web_member_page.py finds the member routes by it
    return guarded


def _alive(request: Request, member_id: str) -> bool:
    with request.app.state.pool.store() as store:
        found = profiles.profile(store, member_id)
    return found is not None and not found.forgotten_at


def _message(request: Request, status: int, title: str, text: str) -> Response:
    return render(request, "member/message.html", status_code=status, title=title, text=text)


# -- the link ----------------------------------------------------------------------------------
async def open_link(request: Request) -> Response:
    """A link from the kiosk or an email: check it, start the session, go to /me (the token
    leaves the address bar and the history)."""
    keys = request.app.state.settings.links
    if keys is None:
        return _message(request, 404, "No member pages here",
                        "This back office has no key for member links.")
    try:
        link = keys.verify(request.path_params["token"])
    except member_links.LinkRefused as exc:
        return _message(request, 403, "This link does not open", str(exc).capitalize() + ".")
    if not await run_in_threadpool(_alive, request, link.member_id):
        return _message(request, 403, "This link does not open", "There is no such account.")
    if link.purpose == "kiosk" and member_session.member_of(request) != link.member_id and \
            not await run_in_threadpool(_claim, request, request.path_params["token"], link):
        return _message(request, 403, "This link was opened already",
                        "A code from the kiosk opens one phone only. Ask the kiosk for a new"
                        " one: hold select while your card is read.")
    answer = RedirectResponse(request.url_for("member_page").path, status_code=303)
    member_session.start(request, answer, link.member_id)
    return answer


def _claim(request: Request, token: str, link: member_links.Link) -> bool:
    with request.app.state.pool.store() as store, store.transaction() as db:
        return member_links.claim(db, token, link)


# -- the page -----------------------------------------------------------------------------------
@member_only
async def page(request: Request, member_id: str) -> Response:
    return await run_in_threadpool(_page, request, member_id)


def _page(request: Request, member_id: str, status: int = 200, errors: dict | None = None,
          values: dict | None = None) -> Response:
    settings = request.app.state.settings
    with request.app.state.pool.store() as store:
        program = ProgramBook.load(store).active
        data = page_data(store, program, member_id)
        found = profiles.profile(store, member_id)
    now = time.time()
    codes = (codes_ahead(settings.qr_key, settings.qr_program, member_id, settings.qr_period,
                         now=now) if settings.qr_key is not None else [])
    consent = {c: found.consent(c) for c in pf.CHANNELS}
    shown = {k: getattr(found, k) or "" for k in FIELDS} | (values or {})
    return render(request, "member/page.html", status_code=status, data=data, codes=codes,
                  now=int(now), period=settings.qr_period, profile=shown, errors=errors or {},
                  consent=consent, consent_text=CONSENT_TEXT, today=dt.date.today())


# -- forms --------------------------------------------------------------------------------------
@member_only
async def save_profile(request: Request, member_id: str) -> Response:
    form = await request.form()
    values, errors, fields = {}, {}, {}
    for key, check in FIELDS.items():
        text = form.get(key)
        text = text.strip() if isinstance(text, str) else ""
        values[key] = text
        if text:
            try:
                fields[key] = check(text)
            except ValueError as exc:
                errors[key] = str(exc)
    if errors:
        return await run_in_threadpool(_page, request, member_id, 400, errors, values)
    await run_in_threadpool(_update, request, member_id, fields)
    flash(request, "Your details are saved." if fields else "Nothing to save.")
    return RedirectResponse(request.url_for("member_page").path, status_code=303)


def _update(request: Request, member_id: str, fields: dict) -> None:
    if not fields:
        return
    with request.app.state.pool.store() as store, store.transaction() as db:
        profiles.update(store, member_id, fields)
        audit.record(db, f"member:{member_id}", "web", "member.update", member_id,
                     {"fields": sorted(fields)})  # names only: never the values


@member_only
async def consent(request: Request, member_id: str) -> Response:
    form = await request.form()
    channel, choice = form.get("channel"), form.get("choice")
    if channel not in pf.CHANNELS or choice not in ("give", "withdraw"):
        return _message(request, 400, "Not understood",
                        f"Choose a channel ({', '.join(pf.CHANNELS)}) and give or withdraw.")
    await run_in_threadpool(_consent, request, member_id, channel, choice == "give")
    flash(request, f"{CONSENT_TEXT[channel]}: {'yes' if choice == 'give' else 'no'}.")
    return RedirectResponse(request.url_for("member_page").path + "#consent", status_code=303)


def _consent(request: Request, member_id: str, channel: str, given: bool) -> None:
    with request.app.state.pool.store() as store, store.transaction() as db:
        profiles.set_consent(store, member_id, channel, given, "web", WORDING)
        audit.record(db, f"member:{member_id}", "web",
                     "consent.give" if given else "consent.withdraw", member_id,
                     {"channel": channel, "wording": WORDING})


@member_only
async def export_data(request: Request, member_id: str) -> Response:
    body = await run_in_threadpool(_export, request, member_id)
    return Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="my-loyalty-data-{member_id}.json"',
        "cache-control": "no-store"})


def _export(request: Request, member_id: str) -> bytes:
    with request.app.state.pool.store() as store, store.transaction() as db:
        data = profiles.export(store, member_id)  # what `ledger members export` prints
        audit.record(db, f"member:{member_id}", "web", "member.export", member_id)
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


@member_only
async def forget(request: Request, member_id: str) -> Response:
    form = await request.form()
    if form.get("confirm") != "yes":
        flash(request, "Tick the box to confirm that your data should be erased.", "error")
        return RedirectResponse(request.url_for("member_page").path + "#forget",
                                status_code=303)
    await run_in_threadpool(_forget, request, member_id)
    answer = _message(request, 200, "Your data is erased",
                      "Your name, contact details and cards are removed from the loyalty"
                      " program. This page will not open again.")
    member_session.end(request, answer)
    return answer


def _forget(request: Request, member_id: str) -> None:
    with request.app.state.pool.store() as store, store.transaction() as db:
        cards = profiles.forget(store, member_id)
        audit.record(db, f"member:{member_id}", "web", "member.forget", member_id,
                     {"cards_unbound": cards})


@member_only
async def leave(request: Request, member_id: str) -> Response:
    answer = _message(request, 200, "Signed out", "Open your link again to see your account.")
    member_session.end(request, answer)
    return answer


routes = [
    Route("/me", page, methods=["GET"], name="member_page"),
    Route("/me/profile", save_profile, methods=["POST"], name="member_profile"),
    Route("/me/consent", consent, methods=["POST"], name="member_consent"),
    Route("/me/export", export_data, methods=["POST"], name="member_export"),
    Route("/me/forget", forget, methods=["POST"], name="member_forget"),
    Route("/me/logout", leave, methods=["POST"], name="member_logout"),
    Route("/me/{token}", open_link, methods=["GET"], name="member_link"),  # last: any segment
]
