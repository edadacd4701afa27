"""Pages for citizens, no login: the home page with the complaint form, and the status lookup."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import attachments, follow_up, limits
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import IllegalTransition, InvalidInput, RateLimited, Reason
from dispatch.intake import IntakeRequest, earlier_answer, intake
from dispatch.models import Ticket
from dispatch.public import public_view
from dispatch.unit_cache import UnitCache
from dispatch.vocabulary import Channel, Rating, RequestType, UnitKind
from web.auth import client_key
from web.messages import describe, words
from web.inputs import refuse_unstorable
from web.pages import labels
from web.pages.attachments import MAX_FILES_IN_FORM, uploads_of
from web.pages.site import Site
from web import upload_gate

TYPES = [t.value for t in RequestType]


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _form_page(request: Request, *, values: dict[str, Any] | None = None, error: InvalidInput | None = None,
               status: int = 200, notice: str | None = None) -> Response:
    site = _site(request)
    city = site.services.city
    township = next((u.name for u in city.units if u.kind is UnitKind.TOWNSHIP), None)
    return site.render(request, "home.html", {
        "city": city.name, "types": TYPES, "values": values or {"type": "complaint"},
        "location_example": labels.location_example(township),
        "published_notice": labels.PUBLIC_FORM_PUBLISHED, "confidential_label": labels.PUBLIC_FORM_CONFIDENTIAL,
        "form_id": uuid.uuid4().hex, "error": error, "notice": notice,
        "error_message": describe(error) if error else None,
        "max_body": site.services.settings.max_body_chars,
        "photo_limits": site.services.attachment_limits}, status)


async def home(request: Request) -> Response:
    return _form_page(request)


async def submit(request: Request) -> Response:
    """The web form: the same intake as every channel; the form's id makes a double submit
    (or a reload of the answer page) return the same ticket instead of a second one. Photos
    sent with it are stored with the ticket in the same transaction: a photo refused (not an
    image, too large, too many) files nothing, and the form comes back to choose again."""
    site = _site(request)
    client = client_key(request)
    if not upload_gate.large(request.headers.get("content-length")):
        return await _read_and_file(request, client)
    # A body that may carry photos: refused unread when the address has used its share of
    # forms, is sending another such body, or the server reads as many as it takes.
    try:
        await site.services.read(lambda s: limits.web_form_share_left(s, site.services.settings.limits, client))
    except RateLimited as exc:
        return _unread(request, 429, describe(exc), exc.retry_after)
    gate: upload_gate.UploadGate = request.app.state.upload_gate
    with gate.admit(client) as refused:
        if refused is upload_gate.Refusal.ADDRESS_BUSY:
            return _unread(request, 429, labels.PUBLIC_FORM_UPLOADING, UPLOAD_RETRY_SECONDS)
        if refused is upload_gate.Refusal.SERVER_BUSY:
            return _unread(request, 503, labels.PUBLIC_FORM_BUSY, UPLOAD_RETRY_SECONDS)
        return await _read_and_file(request, client)


# Retry-After of a form with photos refused because one is being read: a form takes seconds.
UPLOAD_RETRY_SECONDS = 10


def _unread(request: Request, status: int, notice: str, retry_after: int) -> Response:
    """The empty form with why it was refused, its body left unread: the connection is
    closed after the answer rather than read to the end of the body."""
    response = _form_page(request, status=status, notice=notice)
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Connection"] = "close"
    return response


async def _read_and_file(request: Request, client: str) -> Response:
    site = _site(request)
    form = await request.form(max_files=MAX_FILES_IN_FORM, max_fields=50)
    refuse_unstorable(form.multi_items())
    photos = await uploads_of(form)
    values = {k: form.get(k) or "" for k in ("type", "title", "body", "phone", "name", "location")}
    values["confidential"] = form.get("confidential") == "on"
    try:
        site.auth.check_csrf(request, form)
    except HTTPException:
        # The page was old (its token cookie gone with a closed browser, or another tab's):
        # the form again, filled in, with a token that works, rather than a bare 403.
        return _form_page(request, values=values, status=403, notice=labels.PUBLIC_FORM_EXPIRED)
    rules = site.services.settings.limits
    try:
        kind = RequestType(values["type"]) if values["type"] else RequestType.COMPLAINT
    except ValueError:
        return _form_page(request, values=values, error=InvalidInput("type", Reason.BAD_REQUEST_TYPE), status=422)
    form_id = str(form.get("form_id") or "")[:64] or None
    intake_request = IntakeRequest(channel=Channel.WEB, body=str(values["body"]), title=str(values["title"]),
                                   phone=str(values["phone"]), name=str(values["name"]),
                                   location=str(values["location"]), request_type=kind,
                                   confidential=bool(values["confidential"]),
                                   channel_ref=f"form:{form_id}" if form_id else None)

    proposal = await site.services.propose(intake_request)
    now = utcnow()

    def work(session: Session) -> dict[str, Any]:
        # A form sent again (reload, back button) gets its first answer, limit or not.
        ref = intake_request.channel_ref
        result = earlier_answer(session, Channel.WEB, ref) if ref else None
        if result is None:
            # Counted in the database, and before the intake: the limit holds however many
            # processes serve the form and however many forms come at once.
            limits.count_web_form(session, rules, client, now)
            result = intake(session, intake_request, site.services.rules, router=site.services.router,
                            proposal=proposal)
            # With the ticket filed, or with the open one a repeat joined: the citizen's photos.
            attachments.add(session, result.ticket, WEB_CITIZEN, photos, site.services.attachment_limits, now=now)
        t = result.ticket
        if result.repeat_of_open_ticket:  # told it was joined; the code goes to the phone on file
            return {"created": False, "repeat": True}
        return {"number": t.number, "query_code": t.query_code, "deadline": t.deadline, "created": result.created,
                "repeat": False}

    try:
        answer = await site.services.run(work)
    except InvalidInput as exc:
        return _form_page(request, values=values, error=exc, status=422,
                          notice=labels.PHOTOS_NOT_SAVED if photos else None)
    except RateLimited as exc:
        response = _form_page(request, values=values, status=429, notice=describe(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if answer["created"]:
        site.changed()
    return site.render(request, "submitted.html", {"ticket": answer}, 201 if answer["created"] else 200)


WEB_CITIZEN = Actor.citizen(Channel.WEB.value)


def status_context(session: Session, ticket: Ticket, units: UnitCache) -> dict[str, Any]:
    """The public view, and whether the citizen is asked to rate (or what they said)."""
    return {"view": public_view(session, ticket, units.names(session)), "may_rate": follow_up.may_rate(session, ticket),
            "rating": ticket.rating}


async def status(request: Request, *, number: str | None = None, code: str | None = None,
                 error: str | None = None, http_status: int = 200,
                 kept: dict[str, str] | None = None) -> Response:
    """Number + query code -> the masked public view; a wrong code reads like an unknown number.

    The page's own form posts them and the answer comes back at /status (from a short-lived
    cookie, web/auth.py), so no query code stands in an address; a link or bookmark with them
    in its query still works."""
    site = _site(request)
    rated = request.query_params.get("rated") == "1"
    if number is None and code is None and "number" not in request.query_params and \
            "code" not in request.query_params:
        recalled = site.auth.recalled_lookup(request)
        if recalled is not None:
            number, code, rated = recalled
    number = (request.query_params.get("number", "") if number is None else number).strip()[:40]
    code = (request.query_params.get("code", "") if code is None else code).strip()[:20]
    context: dict[str, Any] = {"number": number, "code": code, "view": None, "error": None,
                               "rated": rated, "rate_error": error, "kept": kept or {}}
    if not number and not code:
        return site.render(request, "status.html", context, http_status)
    client, rules = client_key(request), site.services.settings.limits

    def work(session: Session) -> dict[str, Any] | None:
        ticket = limits.limited_lookup(session, rules, number, code, client)
        return None if ticket is None else status_context(session, ticket, site.services.units)

    try:
        # Counted and committed statement by statement (see limits.limited_lookup).
        found = await site.services.read(work)
    except RateLimited as exc:
        context["error"] = describe(exc)
        response = site.render(request, "status.html", context, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if found is None:
        context["error"] = words(Reason.LOOKUP_FAILED, {})
        response = site.render(request, "status.html", context, 404)
        site.auth.forget_lookup(response)
        return response
    context.update(found)
    return site.render(request, "status.html", context, http_status)


async def look_up(request: Request) -> Response:
    """The status form, posted: kept for /status to answer, which the browser goes to next."""
    site = _site(request)
    form = await request.form(max_files=0, max_fields=50)
    refuse_unstorable(form.multi_items())
    number, code = str(form.get("number") or "").strip()[:40], str(form.get("code") or "").strip()[:20]
    try:
        site.auth.check_csrf(request, form)
    except HTTPException:
        # An old page (its token cookie gone): the form again with a token that works.
        return site.render(request, "status.html", {"number": number, "code": code, "view": None,
                                                    "error": labels.STATUS_FORM_EXPIRED}, 403)
    response = RedirectResponse("/status", status_code=303)
    site.auth.remember_lookup(request, response, number, code)
    return response


async def rate(request: Request) -> Response:
    """回访 on the web: the citizen holding number and query code rates the result (of their
    own ticket, or of the main ticket theirs was merged into)."""
    site = _site(request)
    form = await request.form(max_files=0, max_fields=50)
    refuse_unstorable(form.multi_items())
    number, code = str(form.get("number") or "").strip()[:40], str(form.get("code") or "").strip()[:20]
    note = str(form.get("note") or "").strip()[:500] or None
    # A refused rating comes back with what the citizen chose and wrote.
    kept = {"rating": str(form.get("rating") or ""), "note": note or ""}
    try:
        site.auth.check_csrf(request, form)
    except HTTPException:
        # An old page (its token cookie gone with a closed browser): the page again, with a
        # token that works, rather than a bare 403 that loses the rating.
        return await status(request, number=number, code=code, error=labels.RATING_FORM_EXPIRED,
                            http_status=403, kept=kept)
    client, rules = client_key(request), site.services.settings.limits
    try:
        rating = Rating(kept["rating"])
    except ValueError:
        return await status(request, number=number, code=code, error=words(Reason.RATING_REQUIRED, {}),
                            http_status=422, kept=kept)

    reopening = site.services.action_context().reopening

    def work(session: Session) -> bool:
        ticket = limits.limited_lookup(session, rules, number, code, client)
        if ticket is None:  # the failure is counted and committed
            return False
        follow_up.rate_as_citizen(session, ticket, rating, WEB_CITIZEN, note=note, reopening=reopening)
        return True

    try:
        rated = await site.services.run(work)
    except RateLimited as exc:
        return await status(request, number=number, code=code, http_status=429, error=describe(exc), kept=kept)
    except (IllegalTransition, InvalidInput):
        return await status(request, number=number, code=code, http_status=409,
                            error=words(Reason.CANNOT_RATE, {}))
    if not rated:
        return await status(request, number=number, code=code)
    site.changed()
    response = RedirectResponse("/status", status_code=303)
    site.auth.remember_lookup(request, response, number, code, rated=True)
    return response


routes = [
    Route("/", home, methods=["GET"]),
    Route("/", submit, methods=["POST"]),
    Route("/status", status, methods=["GET"]),
    Route("/status", look_up, methods=["POST"]),
    Route("/status/rate", rate, methods=["POST"]),
]
