"""The administrator's pages: staff accounts (add, change, deactivate, reactivate, reset a
password), units (add one, edit, import a city file's units after seeing what would change), the staff
API's tokens for units' systems (make, revoke), the Open311 clients' keys (issue, revoke) and
the staff activity log. The rules are in dispatch/staff_admin.py, dispatch/unit_admin.py,
dispatch/api_tokens.py, dispatch/open311_keys.py and dispatch/staff_activity.py; these routes read the form and show the outcome."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import api_tokens, open311_keys, staff_activity, staff_admin, unit_admin, unit_succession, webhooks
from dispatch.actions import optional_int
from dispatch.errors import DispatchError, InvalidInput, NotFound, Reason
from dispatch.models import Unit
from dispatch.staff_activity import ActivityFilter, ActivityKind
from dispatch.text_files import decode_text
from dispatch.vocabulary import Role
from web import config_changes
from web.auth import staff_only
from web.errors import BadRequest
from web.inputs import parse_day
from web.messages import IMPORT_REFUSED, UNITS_FILE_TOO_LARGE, describe, problems_of, words
from web.pages.labels import (ACTIVITY_ZH, ADMIN_CONFIRM_ZH, ADMIN_DONE_ZH, ROLES_ZH, UNIT_KINDS_ZH, UNITS_CHANGED_SINCE_PREVIEW,
                              WEBHOOK_EVENTS_ZH, WEBHOOK_STATUS_ZH)
from web.pages.site import Site

ADMIN_ROLES = frozenset({Role.ADMIN})
TOKENS_SHOWN = 200   # the newest; `hotline tokens list` lists every one
# A generated password is on the page once: no copy of it in any cache.
NO_STORE = {"Cache-Control": "no-store"}


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _text(form: Any, name: str, limit: int = 200) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("role", Reason.ROLE_REQUIRED) from None


def _done(request: Request) -> str | None:
    return ADMIN_DONE_ZH.get(request.query_params.get("done", ""))


async def _active_units(site: Site, keeping: str | None = None) -> list[tuple[str, str, bool]]:
    """(code, name, active) of the units an account may be given; `keeping`: the unit the
    account has now, listed even when retired, so that its page shows it and may keep it."""
    return await site.services.run(lambda s: [tuple(r) for r in s.execute(
        select(Unit.code, Unit.name, Unit.active).where(Unit.active.is_(True) | (Unit.code == keeping))
        .order_by(Unit.active.desc(), Unit.kind, Unit.code))])


# -- accounts -------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


async def users_page(request: Request, *, error: str | None = None, status: int = 200,
                     values: dict[str, str] | None = None) -> Response:
    site = _site(request)
    users = await site.services.run(staff_admin.list_users)
    return site.render(request, "admin_users.html", {
        "users": users, "units": await _active_units(site), "roles": ROLES_ZH, "error": error,
        "values": values or {}, "done": _done(request), "section": "users"}, status)


async def add_user(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = {name: _text(form, name) for name in ("username", "display_name", "role", "unit", "phone_extension")}
    password = str(form.get("password") or "")[:1000]

    def work(session: Session) -> tuple[int, str | None]:
        added, generated = staff_admin.add_user(session, user.actor, values["username"], _role(values["role"]),
                                                display_name=values["display_name"],
                                                unit_code=values["unit"] or None, password=password or None,
                                                phone_extension=values["phone_extension"] or None)
        return added.id, generated

    try:
        user_id, generated = await site.services.run(work)
    except DispatchError as exc:
        return await users_page(request, error=describe(exc), status=422, values=values)
    if generated is None:
        return RedirectResponse(f"/admin/users/{user_id}?done=added", status_code=303)
    return await user_page(request, user_id=user_id, generated=generated, done=ADMIN_DONE_ZH["added"])


async def user_page(request: Request, *, user_id: int | None = None, error: str | None = None, status: int = 200,
                    generated: str | None = None, done: str | None = None) -> Response:
    site = _site(request)
    user_id = user_id if user_id is not None else int(request.path_params["user_id"])

    def read(session: Session):  # type: ignore[no-untyped-def]
        shown = staff_admin.user_row(session, user_id)
        recent = staff_activity.search(session, ActivityFilter(user=shown.username), per_page=20)
        return shown, recent.rows

    shown, recent = await site.services.run(read)
    response = site.render(request, "admin_user.html", {
        "shown": shown, "recent": recent, "units": await _active_units(site, shown.unit_code), "roles": ROLES_ZH,
        "activity_kinds": ACTIVITY_ZH, "error": error, "generated": generated, "done": done or _done(request),
        "section": "users", "is_self": shown.id == request.state.user.id}, status)
    if generated is not None:
        response.headers.update(NO_STORE)
    return response


async def update_user(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    user_id = int(request.path_params["user_id"])
    try:
        await site.services.run(lambda s: staff_admin.update_user(
            s, user.actor, user_id, display_name=_text(form, "display_name"), role=_role(_text(form, "role")),
            unit_code=_text(form, "unit") or None, phone_extension=_text(form, "phone_extension") or None))
    except DispatchError as exc:
        return await user_page(request, error=describe(exc), status=422)
    return RedirectResponse(f"/admin/users/{user_id}?done=saved", status_code=303)


def _set_active(active: bool):  # type: ignore[no-untyped-def]
    async def change(request: Request) -> Response:
        site, user = _site(request), request.state.user
        user_id = int(request.path_params["user_id"])
        try:
            await site.services.run(lambda s: staff_admin.set_active(s, user.actor, user_id, active))
        except DispatchError as exc:
            return await user_page(request, error=describe(exc), status=422)
        return RedirectResponse(f"/admin/users/{user_id}?done={'reactivated' if active else 'deactivated'}",
                                status_code=303)

    change.__name__ = "reactivate" if active else "deactivate"
    return change


async def reset_password(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    user_id = int(request.path_params["user_id"])
    password = str(form.get("password") or "")[:1000]
    if password and password != str(form.get("confirm") or ""):
        return await user_page(request, error=words(Reason.PASSWORDS_DIFFER, {}), status=422)
    try:
        generated = await site.services.run(
            lambda s: staff_admin.reset_password(s, user.actor, user_id, password or None))
    except DispatchError as exc:
        return await user_page(request, error=describe(exc), status=422)
    if user_id == user.id:   # one's own sessions ended too: log in again with the new password
        return RedirectResponse("/login", status_code=303)
    if generated is None:
        return RedirectResponse(f"/admin/users/{user_id}?done=password", status_code=303)
    return await user_page(request, user_id=user_id, generated=generated, done=ADMIN_DONE_ZH["password"])


# -- units ----------------------------------------------------------------------------------


async def units_page(request: Request, *, error: str | None = None, problems: list[str] | None = None,
                     status: int = 200, text: str = "", values: dict[str, str] | None = None) -> Response:
    site = _site(request)
    units = await site.services.run(unit_admin.list_units)
    return site.render(request, "admin_units.html", {
        "units": units, "kinds": UNIT_KINDS_ZH, "error": error, "problems": problems or [], "text": text,
        "values": values or {}, "done": _done(request), "section": "units"}, status)


async def add_unit(request: Request) -> Response:
    """One unit from the form; refused, the page comes back with what was typed."""
    site, user, form = _site(request), request.state.user, request.state.form
    values = {name: _text(form, name, 300) for name in ("code", "name", "kind", "parent", "duty_phone")}
    try:
        unit_id = await site.services.run(lambda s: unit_admin.add_unit(
            s, user.actor, code=values["code"], name=values["name"], kind=values["kind"],
            parent_code=values["parent"] or None, duty_phone=values["duty_phone"] or None).id)
    except DispatchError as exc:
        return await units_page(request, error=describe(exc), status=422, values=values)
    await _units_changed(site)
    return RedirectResponse(f"/admin/units/{unit_id}?done=unit_added", status_code=303)


async def unit_page(request: Request, *, error: str | None = None, status: int = 200,
                    typed_phone: str | None = None, secret: str | None = None,
                    webhook_error: str | None = None, typed_url: str | None = None) -> Response:
    site = _site(request)
    unit_id = int(request.path_params["unit_id"])

    def read(session: Session):  # type: ignore[no-untyped-def]
        return (unit_admin.unit_row(session, unit_id), unit_admin.list_units(session),
                webhooks.webhook_of(session, unit_id), webhooks.deliveries_of(session, unit_id),
                unit_succession.open_work(session, unit_id))

    shown, units, hook, deliveries, work = await site.services.run(read)
    form = getattr(request.state, "form", None) if request.method == "POST" else None
    return site.render(request, "admin_unit.html", {
        "shown": shown, "units": [u for u in units if u.id != shown.id], "kinds": UNIT_KINDS_ZH, "error": error,
        "open_work": work, "successors": [u for u in units if u.active and u.id != shown.id],
        "typed_successor": _text(form, "successor", 64) if form else "", "typed_reason": _text(form, "reason", 500) if form else "",
        "done": _done(request), "section": "units", "form_duty_phone": typed_phone, "webhook": hook, "deliveries": deliveries, "secret": secret,
        "webhook_error": webhook_error, "form_webhook_url": typed_url, "delivery_status": WEBHOOK_STATUS_ZH, "delivery_events": WEBHOOK_EVENTS_ZH},
        status, headers=NO_STORE if secret else None)


async def set_webhook(request: Request) -> Response:
    """A unit's webhook URL with a new secret, shown on this answer only."""
    site, user, form = _site(request), request.state.user, request.state.form
    unit_id = int(request.path_params["unit_id"])

    def work(session: Session) -> str:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(Reason.UNIT_RECORD_NOT_FOUND, unit_id=unit_id)
        return webhooks.register(session, user.actor, unit, typed,
                                 allow_private=site.services.settings.webhook_allow_private)
    typed = str(form.get("url") or "")
    try:
        secret = await site.services.run(work)
    except InvalidInput as exc:
        # What was typed comes back with the error, to be corrected, not the saved address.
        return await unit_page(request, webhook_error=describe(exc), status=422, typed_url=typed)
    return await unit_page(request, secret=secret)


async def remove_webhook(request: Request) -> Response:
    site, user = _site(request), request.state.user
    unit_id = int(request.path_params["unit_id"])

    def work(session: Session) -> None:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(Reason.UNIT_RECORD_NOT_FOUND, unit_id=unit_id)
        webhooks.remove(session, user.actor, unit)
    await site.services.run(work)
    return RedirectResponse(f"/admin/units/{unit_id}?done=webhook_removed", status_code=303)


async def redeliver(request: Request) -> Response:
    site, user = _site(request), request.state.user
    unit_id, delivery = int(request.path_params["unit_id"]), int(request.path_params["delivery"])
    await site.services.run(lambda s: webhooks.redeliver(s, user.actor, unit_id, delivery))
    return RedirectResponse(f"/admin/units/{unit_id}?done=redelivering", status_code=303)


async def update_unit(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    unit_id = int(request.path_params["unit_id"])
    try:
        await site.services.run(lambda s: unit_admin.update_unit(
            s, user.actor, unit_id, name=_text(form, "name"), kind=_text(form, "kind"),
            parent_code=_text(form, "parent", 64) or None, active=form.get("active") == "on",
            # A form without the field (an older page) leaves the number as it is.
            duty_phone=_text(form, "duty_phone") if "duty_phone" in form else None,
            successor_code=_text(form, "successor", 64) or None, reason=_text(form, "reason", 500) or None))
    except DispatchError as exc:
        return await unit_page(request, error=describe(exc), status=422, typed_phone=_text(form, "duty_phone"))
    await _units_changed(site)
    handed = form.get("active") != "on" and _text(form, "successor", 64)
    return RedirectResponse(f"/admin/units/{unit_id}?done={'handed_over' if handed else 'saved'}", status_code=303)


async def _units_changed(site: Site) -> None:
    """Every process's pages list the units as they now are (dispatch/unit_cache.py), and its
    router's catalogue names them so (a retired unit marked, a successor's entries moved)."""
    site.services.units.clear()
    config_changes.tell(site.hub, config_changes.UNITS)
    await site.services.refresh_catalogue()
    config_changes.tell(site.hub, config_changes.CATALOGUE)


async def _import_text(form: Any) -> str:
    """The pasted text, or the uploaded file's (UTF-8, a BOM allowed)."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(unit_admin.MAX_IMPORT_CHARS * 4 + 1)
        if len(raw) > unit_admin.MAX_IMPORT_CHARS * 4:
            raise unit_admin.UnitImportError([UNITS_FILE_TOO_LARGE])
        try:
            return decode_text(raw, upload.filename)
        except InvalidInput as exc:
            raise unit_admin.UnitImportError([describe(exc)]) from None
    return str(form.get("text") or "")


async def import_preview(request: Request) -> Response:
    site, form = _site(request), request.state.form
    try:
        text = await _import_text(form)
        units = unit_admin.parse_units(text)
        plan = await site.services.run(lambda s: unit_admin.plan_import(s, units))
    except unit_admin.UnitImportError as exc:
        pasted = form.get("text")
        return await units_page(request, error=IMPORT_REFUSED, problems=problems_of(exc), status=422,
                                text=pasted if isinstance(pasted, str) else "")
    return site.render(request, "admin_import.html", {"plan": plan, "text": text, "kinds": UNIT_KINDS_ZH,
                                                      "section": "units", "notice": None})


async def import_apply(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    text = str(form.get("text") or "")
    try:
        units = unit_admin.parse_units(text)
    except unit_admin.UnitImportError as exc:
        return await units_page(request, error=IMPORT_REFUSED, problems=problems_of(exc), status=422)

    def work(session: Session) -> unit_admin.ImportPlan | None:
        plan = unit_admin.plan_import(session, units)
        if plan.fingerprint != form.get("fingerprint"):
            return plan       # the units changed since the preview: show the new plan first
        unit_admin.apply_import(session, user.actor, units, plan)
        return None

    try:
        changed_plan = await site.services.run(work)
    except unit_admin.UnitImportError as exc:
        return await units_page(request, error=IMPORT_REFUSED, problems=problems_of(exc), status=422)
    if changed_plan is not None:
        return site.render(request, "admin_import.html", {
            "plan": changed_plan, "text": text, "kinds": UNIT_KINDS_ZH, "section": "units",
            "notice": UNITS_CHANGED_SINCE_PREVIEW}, 409)
    await _units_changed(site)
    return RedirectResponse("/admin/units?done=imported", status_code=303)


# -- staff API tokens -----------------------------------------------------------------------


async def tokens_page(request: Request, *, error: str | None = None, status: int = 200,
                      values: dict[str, str] | None = None, made: dict[str, Any] | None = None) -> Response:
    site = _site(request)

    def read(session: Session):  # type: ignore[no-untyped-def]
        return api_tokens.all_tokens(session, TOKENS_SHOWN), [u for u in staff_admin.list_users(session) if u.active]

    tokens, users = await site.services.run(read)
    response = site.render(request, "admin_tokens.html", {
        "tokens": tokens, "users": users, "roles": ROLES_ZH, "error": error, "values": values or {},
        "made": made, "done": _done(request), "section": "tokens", "shown_at_most": TOKENS_SHOWN}, status)
    if made is not None:
        response.headers.update(NO_STORE)
    return response


async def make_token(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = {name: _text(form, name) for name in ("user_id", "name", "days")}

    def work(session: Session) -> dict[str, Any]:
        user_id = optional_int(form, "user_id", low=1)
        if user_id is None:
            raise InvalidInput("user", Reason.REQUIRED)
        row, raw = api_tokens.issue(session, user.actor, user_id, values["name"], days=optional_int(form, "days", low=1, high=api_tokens.MAX_DAYS))
        return {"id": row.id, "name": row.name, "token": raw, "expires_at": row.expires_at}

    try:
        made = await site.services.run(work)
    except DispatchError as exc:
        return await tokens_page(request, error=describe(exc), status=422, values=values)
    return await tokens_page(request, made=made)


async def revoke_token(request: Request) -> Response:
    site, user = _site(request), request.state.user
    token_id = int(request.path_params["token_id"])
    try:
        await site.services.run(lambda s: api_tokens.end(s, user.actor, token_id))
    except DispatchError as exc:
        return await tokens_page(request, error=describe(exc), status=404 if isinstance(exc, NotFound) else 422)
    return RedirectResponse("/admin/tokens?done=token_revoked", status_code=303)


# -- Open311 clients' keys ------------------------------------------------------------------


async def open311_page(request: Request, *, error: str | None = None, status: int = 200,
                       values: dict[str, str] | None = None, made: dict[str, Any] | None = None) -> Response:
    site = _site(request)
    clients = await site.services.run(open311_keys.all_clients)
    response = site.render(request, "admin_open311.html", {
        "clients": clients, "error": error, "values": values or {}, "made": made, "done": _done(request),
        "section": "open311", "revoke_confirm": ADMIN_CONFIRM_ZH["revoke_open311"]}, status)
    if made is not None:
        response.headers.update(NO_STORE)
    return response


async def make_open311_key(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = {"name": _text(form, "name", open311_keys.MAX_NAME_CHARS + 1)}

    def work(session: Session) -> dict[str, Any]:
        row, raw = open311_keys.issue(session, user.actor, values["name"])
        return {"id": row.id, "name": row.name, "key": raw}

    try:
        made = await site.services.run(work)
    except DispatchError as exc:
        return await open311_page(request, error=describe(exc), status=422, values=values)
    return await open311_page(request, made=made)


async def revoke_open311_key(request: Request) -> Response:
    site, user = _site(request), request.state.user
    client_id = int(request.path_params["client_id"])
    try:
        await site.services.run(lambda s: open311_keys.end(s, user.actor, client_id))
    except DispatchError as exc:
        return await open311_page(request, error=describe(exc), status=404 if isinstance(exc, NotFound) else 422)
    return RedirectResponse("/admin/open311?done=open311_revoked", status_code=303)


# -- activity log ---------------------------------------------------------------------------


def _activity_filter(request: Request) -> tuple[ActivityFilter, int]:
    params = request.query_params
    kind = params.get("kind") or None
    if kind is not None and kind not in ACTIVITY_ZH:
        raise BadRequest("kind", Reason.BAD_ACTIVITY_KIND, value=kind)
    since = parse_day("since", params["since"]) if params.get("since") else None
    until = parse_day("until", params["until"]) if params.get("until") else None
    if since and until and since > until:
        raise BadRequest("since", Reason.PERIOD_REVERSED)
    page = params.get("page") or "1"
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= 100_000:
        raise BadRequest("page", Reason.BAD_PAGE)
    user = (params.get("user") or "").strip()[:100] or None
    return ActivityFilter(user=user, kind=ActivityKind(kind) if kind else None, since=since, until=until), int(page)


async def activity_page(request: Request) -> Response:
    site = _site(request)
    where, page = _activity_filter(request)
    found = await site.services.run(lambda s: staff_activity.search(s, where, page=page))
    query = {k: v for k, v in (("user", where.user), ("kind", where.kind.value if where.kind else None),
                               ("since", where.since and where.since.isoformat()),
                               ("until", where.until and where.until.isoformat())) if v}
    return site.render(request, "admin_activity.html", {
        "found": found, "where": where, "query": query, "kinds": ACTIVITY_ZH, "section": "activity"})


def _admin(endpoint, **options):  # type: ignore[no-untyped-def]
    return staff_only(endpoint, ADMIN_ROLES, **options)


routes = [
    Route("/admin", _admin(home), methods=["GET"]),
    Route("/admin/users", _admin(users_page), methods=["GET"]),
    Route("/admin/users", _admin(add_user), methods=["POST"]),
    Route("/admin/users/{user_id:id}", _admin(user_page), methods=["GET"]),
    Route("/admin/users/{user_id:id}", _admin(update_user), methods=["POST"]),
    Route("/admin/users/{user_id:id}/deactivate", _admin(_set_active(False)), methods=["POST"]),
    Route("/admin/users/{user_id:id}/reactivate", _admin(_set_active(True)), methods=["POST"]),
    Route("/admin/users/{user_id:id}/password", _admin(reset_password), methods=["POST"]),
    Route("/admin/units", _admin(units_page), methods=["GET"]),
    Route("/admin/units", _admin(add_unit), methods=["POST"]),
    Route("/admin/units/import", _admin(import_preview, max_files=1), methods=["POST"]),
    Route("/admin/units/import/apply", _admin(import_apply), methods=["POST"]),
    Route("/admin/units/{unit_id:id}", _admin(unit_page), methods=["GET"]),
    Route("/admin/units/{unit_id:id}", _admin(update_unit), methods=["POST"]),
    Route("/admin/units/{unit_id:id}/webhook", _admin(set_webhook), methods=["POST"]),
    Route("/admin/units/{unit_id:id}/webhook/delete", _admin(remove_webhook), methods=["POST"]),
    Route("/admin/units/{unit_id:id}/webhook/redeliver/{delivery:id}", _admin(redeliver), methods=["POST"]),
    Route("/admin/tokens", _admin(tokens_page), methods=["GET"]),
    Route("/admin/tokens", _admin(make_token), methods=["POST"]),
    Route("/admin/tokens/{token_id:id}/revoke", _admin(revoke_token), methods=["POST"]),
    Route("/admin/open311", _admin(open311_page), methods=["GET"]),
    Route("/admin/open311", _admin(make_open311_key), methods=["POST"]),
    Route("/admin/open311/{client_id:id}/revoke", _admin(revoke_open311_key), methods=["POST"]),
    Route("/admin/activity", _admin(activity_page), methods=["GET"]),
]
