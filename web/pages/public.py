"""Pages for citizens, no login: the home page with the complaint form, and the status lookup."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import limits
from dispatch.errors import InvalidInput, RateLimited
from dispatch.intake import IntakeRequest, intake
from dispatch.public import public_view
from dispatch.vocabulary import Channel, RequestType
from web.auth import checked_form, client_key
from web.pages.site import Site

FIELD_LABELS = {"body": "诉求内容", "title": "标题", "phone": "联系电话", "name": "姓名", "location": "地点",
                "type": "诉求类型"}
TYPES = [t.value for t in RequestType]


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _form_page(request: Request, *, values: dict[str, Any] | None = None, error: InvalidInput | None = None,
               status: int = 200, notice: str | None = None) -> Response:
    site = _site(request)
    return site.render(request, "home.html", {
        "city": site.services.city.name, "types": TYPES, "values": values or {"type": "complaint"},
        "form_id": uuid.uuid4().hex, "error": error, "notice": notice,
        "error_field": FIELD_LABELS.get(error.field, error.field) if error else None,
        "max_body": site.services.settings.max_body_chars}, status)


async def home(request: Request) -> Response:
    return _form_page(request)


async def submit(request: Request) -> Response:
    """The web form: the same intake as every channel; the form's id makes a double submit
    (or a reload of the answer page) return the same ticket instead of a second one."""
    site = _site(request)
    form = await checked_form(request)
    values = {k: form.get(k) or "" for k in ("type", "title", "body", "phone", "name", "location")}
    values["confidential"] = form.get("confidential") == "on"
    limiter, client = site.limits.form_per_client, client_key(request)
    if limiter.blocked(client):
        return _form_page(request, values=values, status=429,
                          notice=f"提交过于频繁，请 {limiter.retry_after(client)} 秒后再试，或拨打 12345。")
    try:
        kind = RequestType(values["type"]) if values["type"] else RequestType.COMPLAINT
    except ValueError:
        return _form_page(request, values=values, error=InvalidInput("type", "请选择诉求类型"), status=422)
    form_id = str(form.get("form_id") or "")[:64] or None
    intake_request = IntakeRequest(channel=Channel.WEB, body=str(values["body"]), title=str(values["title"]),
                                   phone=str(values["phone"]), name=str(values["name"]),
                                   location=str(values["location"]), request_type=kind,
                                   confidential=bool(values["confidential"]),
                                   channel_ref=f"form:{form_id}" if form_id else None)

    def work(session: Session) -> dict[str, Any]:
        result = intake(session, intake_request, site.services.rules, router=site.services.router)
        t = result.ticket
        if result.repeat_of_open_ticket:  # told it was joined; the code goes to the phone on file
            return {"created": False, "repeat": True}
        return {"number": t.number, "query_code": t.query_code, "deadline": t.deadline, "created": result.created,
                "repeat": False}

    try:
        answer = await site.services.run(work)
    except InvalidInput as exc:
        return _form_page(request, values=values, error=exc, status=422)
    if answer["created"]:
        limiter.hit(client)
        site.changed()
    return site.render(request, "submitted.html", {"ticket": answer}, 201 if answer["created"] else 200)


async def status(request: Request) -> Response:
    """Number + query code -> the masked public view; a wrong code reads like an unknown number."""
    site = _site(request)
    number = request.query_params.get("number", "").strip()[:40]
    code = request.query_params.get("code", "").strip()[:20]
    context: dict[str, Any] = {"number": number, "code": code, "view": None, "error": None}
    if not number and not code:
        return site.render(request, "status.html", context)
    client, rules = client_key(request), site.services.settings.limits

    def work(session: Session) -> dict[str, Any] | None:
        ticket = limits.limited_lookup(session, rules, number, code, client)
        return None if ticket is None else public_view(session, ticket)

    try:
        context["view"] = await site.services.run(work)  # a failure is counted and committed
    except RateLimited as exc:
        context["error"] = exc.message
        response = site.render(request, "status.html", context, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if context["view"] is None:
        context["error"] = "未找到该工单：请核对工单号和查询码。"
        return site.render(request, "status.html", context, 404)
    return site.render(request, "status.html", context)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/", submit, methods=["POST"]),
    Route("/status", status, methods=["GET"]),
]
