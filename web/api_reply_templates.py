"""The staff API's reply templates (常用语): the token's user's list as the ticket page offers
it (its unit's and the city-wide ones), and changes to the list the user keeps (unit staff
their unit's, admins the city-wide one). dispatch/reply_templates.py checks who may do what."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import reply_templates
from dispatch.errors import NotFound, Reason
from dispatch.numbers import MAX_ID_DIGITS, whole_number
from web.api import MAX_JSON_BYTES, parse_json_object
from web.api_auth import bearer_only
from web.auth import StaffIdentity
from web.body_limit import read_body
from web.services import Services

PATH = "/api/v1/staff/reply_templates"


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _shown(session: Session, user: StaffIdentity, template_id: int) -> dict[str, Any]:
    return next(t.as_dict() for t in reply_templates.visible(session, user.actor) if t.id == template_id)


def _template_id(request: Request) -> int:
    """The path's id; one no row can have (not digits, or more than an id holds) is not found."""
    raw = request.path_params["template_id"]
    found = whole_number(raw, high=10 ** MAX_ID_DIGITS - 1)
    if found is None:
        raise NotFound(Reason.TEMPLATE_NOT_FOUND, template_id=raw[:20])
    return found


async def _body(request: Request, user: StaffIdentity) -> dict[str, Any]:
    """The body of a change to the user's list; a role that keeps none (owner_of) is refused
    first, before its body is read."""
    reply_templates.owner_of(user.actor)
    raw = await read_body(request, MAX_JSON_BYTES)
    return parse_json_object(raw) if raw else {}


async def list_templates(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    shown = await _services(request).read(lambda s: [t.as_dict() for t in reply_templates.visible(s, user.actor)])
    return JSONResponse({"templates": shown, "limit": reply_templates.MAX_TEMPLATES})


async def add_template(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    data = await _body(request, user)

    def work(session: Session) -> dict[str, Any]:
        return _shown(session, user, reply_templates.create(session, user.actor, data).id)

    return JSONResponse(await _services(request).run(work), status_code=201)


async def change_template(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    template_id = _template_id(request)
    data = await _body(request, user)

    def work(session: Session) -> dict[str, Any]:
        reply_templates.update(session, user.actor, template_id, data)
        return _shown(session, user, template_id)

    return JSONResponse(await _services(request).run(work))


async def remove_template(request: Request) -> Response:
    user: StaffIdentity = request.state.user
    template_id = _template_id(request)
    await _services(request).run(lambda s: reply_templates.delete(s, user.actor, template_id))
    return JSONResponse({"deleted": template_id})


routes = [
    Route(PATH, bearer_only(list_templates), methods=["GET"]),
    Route(PATH, bearer_only(add_template), methods=["POST"]),
    Route(f"{PATH}/{{template_id}}", bearer_only(change_template), methods=["PUT"]),
    Route(f"{PATH}/{{template_id}}", bearer_only(remove_template), methods=["DELETE"]),
]
