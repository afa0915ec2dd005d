"""/members (staff and owner): find a member, see them, and the desk's changes to them.

``GET /members?q=TEXT`` searches (ledger.member_search: part of a name, an email, a phone number
however written, a card number or UID, a member id). ``GET /members/<id>`` shows the profile,
consent with its history, cards, block, and the journal with reasons and operators. The forms
on it call the same functions as the CLI, audited as the web user:

- staff and owner: adjust points (a reason is required), replace a lost card, block and
  unblock, download the member's data;
- owner only, since they cannot be undone: merge a duplicate into this member, forget.

Nothing here computes a figure: balances, tiers and journals are the ledger's.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from codes.card_numbers import CardNumberError, number_key, uid_key
from ledger import audit, cards, member_admin, member_search, profiles
from ledger.cards import describe
from ledger.store import LedgerError
from ledger.web.auth import require
from ledger.web.render import error, flash, render

JOURNAL_SHOWN = 100
MAX_POINTS = 1_000_000


class Refused(Exception):
    """A form value that is wrong: the field's name and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# -- search -------------------------------------------------------------------------------------
@require("staff")
def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "")
    offset_text = request.query_params.get("offset", "0")
    if not query.strip():
        return render(request, "members.html", query="", found=None, problem=None)
    try:
        offset = int(offset_text) if offset_text.isdigit() else -1
        with request.app.state.pool.store() as store:
            found = member_search.search(store, query, offset)
    except ValueError as exc:
        return render(request, "members.html", status_code=400, query=query[:200], found=None,
                      problem=str(exc))
    return render(request, "members.html", query=found.query, found=found, problem=None)


# -- one member -----------------------------------------------------------------------------------
def _details(store, member_id: str) -> dict | None:
    member = store.member(member_id)
    if member is None:
        return None
    journal = store.history(member_id)
    return {
        "member": member,
        "profile": profiles.profile(store, member_id),
        "merged_into": _merged_into(store, member_id),
        "blocked": member_admin.blocked(store, member_id),
        "cards": [(key, describe(key), added) for key, _, added in
                  cards.card_list(store, member_id)],
        "blocked_cards": [(describe(key), at, reason) for key, at, reason in
                          cards.blocked_cards(store, member_id)],
        "journal": list(reversed(journal))[:JOURNAL_SHOWN],
        "journal_total": len(journal),
    }


def _merged_into(store, member_id: str) -> str | None:
    target = store.merged_target(member_id)
    return target if target != member_id else None


@require("staff")
def member_page(request: Request) -> Response:
    return _member(request, request.path_params["member_id"])


def _member(request: Request, member_id: str, status_code: int = 200, failed: str = "",
            problems: dict[str, str] | None = None, values: dict | None = None) -> Response:
    """The member's page; after a refused form, ``failed`` names it, ``problems`` says what was
    wrong by field ("form": the whole form) and ``values`` gives back what was typed."""
    with request.app.state.pool.store() as store:
        details = _details(store, member_id)
    if details is None:
        return error(request, 404, "No such member", f"There is no member {member_id[:64]}.")
    return render(request, "member_detail.html", status_code=status_code, failed=failed,
                  problems=problems or {}, values=values or {}, **details)


def _done(request: Request, member_id: str, message: str, anchor: str = "") -> Response:
    flash(request, message)
    path = request.url_for("member_detail", member_id=member_id).path
    return RedirectResponse(path + anchor, status_code=303)


def _form_action(handler):
    """A POST on a member: ``handler(store, member_id, form, user)`` returns the flash message;
    a Refused or LedgerError shows the member's page again with the problem at its field."""

    async def endpoint(request: Request) -> Response:
        member_id, name = request.path_params["member_id"], handler.__name__
        form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}

        def run() -> Response:
            try:
                with request.app.state.pool.store() as store:
                    if store.member(member_id) is None:
                        raise LedgerError(f"no member {member_id[:64]}")
                    message = handler(store, member_id, form, request.scope["user"])
            except Refused as exc:
                return _member(request, member_id, 400, name, {exc.field: exc.message}, form)
            except (LedgerError, ValueError) as exc:
                status = 404 if str(exc).startswith("no member") else 400
                return _member(request, member_id, status, name, {"form": str(exc)}, form)
            return _done(request, member_id, message, f"#{name}")

        return await run_in_threadpool(run)

    endpoint.__name__ = handler.__name__
    return endpoint


def _reason(form: dict, field: str = "reason") -> str:
    try:
        return member_admin.check_reason(form.get(field, ""))
    except ValueError as exc:
        raise Refused(field, f"Reason: {exc}.") from None


def adjust(store, member_id: str, form: dict, user) -> str:
    text = form.get("points", "").strip()
    try:
        points = int(text)
    except ValueError:
        raise Refused("points", f"Points: “{text[:20]}” is not a whole number.") from None
    if points == 0 or abs(points) > MAX_POINTS:
        raise Refused("points", f"Points: give a number from -{MAX_POINTS} to {MAX_POINTS}, not 0.")
    reason = _reason(form)
    balance = store.adjust(member_id, points, reason, user.name, actor=user.name, via="web")
    return f"{points:+d} points for {member_id} ({reason}). Balance now {balance}."


def _card_key(form: dict) -> str:
    kind, text = form.get("new_kind", ""), form.get("new_card", "").strip()
    if kind not in ("number", "uid"):
        raise Refused("new_card", "New card: say whether it is the printed number or the chip UID.")
    try:
        return number_key(text) if kind == "number" else uid_key(text)
    except CardNumberError as exc:
        raise Refused("new_card", f"New card: {exc}.") from None


def replace_card(store, member_id: str, form: dict, user) -> str:
    old = form.get("old_card", "")
    if old not in {key for key, *_ in cards.card_list(store, member_id)}:
        raise Refused("old_card", "Old card: choose one of this member's cards.")
    new = _card_key(form)
    reason = _reason(form)
    cards.replace_card(store, old, new, user.name, "web", reason)
    return f"{describe(old)} is blocked; {describe(new)} now holds {member_id}'s points."


def block(store, member_id: str, form: dict, user) -> str:
    member_admin.block(store, member_id, _reason(form), user.name, "web")
    return f"{member_id} is blocked: the kiosks refuse their cards."


def unblock(store, member_id: str, form: dict, user) -> str:
    member_admin.unblock(store, member_id, _reason(form), user.name, "web")
    return f"{member_id} is no longer blocked."


def merge(store, member_id: str, form: dict, user) -> str:
    duplicate = form.get("duplicate", "").strip()
    if not duplicate or store.member(duplicate) is None:
        raise Refused("duplicate", f"Duplicate: there is no member “{duplicate[:64]}”.")
    reason = _reason(form)
    if form.get("confirm") != "yes":
        raise Refused("confirm", "Tick the box to confirm the merge: it cannot be undone.")
    balance = member_admin.merge(store, member_id, duplicate, reason, user.name, "web")
    return f"{duplicate} is merged into {member_id}. Balance now {balance}."


def forget(store, member_id: str, form: dict, user) -> str:
    if form.get("confirm") != "yes":
        raise Refused("confirm_forget", "Tick the box to confirm: personal data is erased for good.")
    count = profiles.forget(store, member_id, actor=user.name, via="web")
    return f"{member_id}'s personal data is erased and {count} card(s) unbound; the points stay."


@require("staff")
def export(request: Request) -> Response:
    member_id = request.path_params["member_id"]
    with request.app.state.pool.store() as store, store.transaction() as db:
        if store.member(member_id) is None:
            return error(request, 404, "No such member", f"There is no member {member_id[:64]}.")
        data = profiles.export(store, member_id)  # what `ledger members export` prints
        audit.record(db, request.scope["user"].name, "web", "member.export", member_id)
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    return Response(body, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="member-{member_id}.json"'})


# (form handler, who may send it): merging and forgetting cannot be undone, so owners only
ACTIONS = (("staff", adjust), ("staff", replace_card), ("staff", block), ("staff", unblock),
           ("owner", merge), ("owner", forget))

routes = [
    Route("/members", search_page, methods=["GET"], name="members"),
    Route("/members/{member_id}", member_page, methods=["GET"], name="member_detail"),
    Route("/members/{member_id}/export", export, methods=["POST"], name="member_data_export"),
    *[Route(f"/members/{{member_id}}/{a.__name__.replace('_', '-')}",
            require(role)(_form_action(a)), methods=["POST"], name=f"desk_{a.__name__}")
      for role, a in ACTIONS],
]
