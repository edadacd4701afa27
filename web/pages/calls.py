"""One-click calls from the operator console, through the PBX: 回拨 a missed call from the
callback list, or call the citizen of a resolved ticket for its follow-up (回访). The phone
that rings first is the operator's own, as chosen on the console; callcenter/ dials and
logs the attempt, the operator then records what came of it."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from callcenter.callbacks import call_about_ticket, call_back
from dispatch.actors import DISPATCH_ROLES
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, Reason
from dispatch.numbers import whole_number
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe, words
from web.pages.operator import console
from web.pages.site import Site
from web.telephony import pbx_bridge

NO_AGENT = words(Reason.NO_AGENT, {})
NO_PBX = words(Reason.NO_PBX, {})


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _ready(request: Request) -> tuple[Any, str] | str:
    """The bridge and the operator's phone, or why a call cannot be placed."""
    session_data = _site(request).auth.session(request)
    agent = session_data.agent if session_data else None
    if not agent:
        return NO_AGENT
    bridge = pbx_bridge(request.app.state)
    if bridge is None:
        return NO_PBX
    return bridge, agent


async def call_missed(request: Request) -> Response:
    ready = _ready(request)
    if isinstance(ready, str):
        return await console(request, error=ready, status=409)
    bridge, agent = ready
    site, user = _site(request), request.state.user
    try:
        _, result = await call_back(bridge, site.services.sessions, int(request.path_params["callback_id"]),
                                    user.actor, agent)
    except (Conflict, InvalidInput) as exc:
        return await console(request, error=describe(exc), status=status_of(exc))
    return RedirectResponse(f"/operator?done=called&call={result.value}#callbacks", status_code=303)


async def call_follow_up(request: Request) -> Response:
    ready = _ready(request)
    if isinstance(ready, str):
        return await console(request, error=ready, status=409)
    bridge, agent = ready
    site, user = _site(request), request.state.user
    number = request.path_params["number"]
    try:
        result = await call_about_ticket(bridge, site.services.sessions, number, user.actor, agent)
    except (IllegalTransition, InvalidInput) as exc:
        return await console(request, error=describe(exc), status=status_of(exc))
    site.changed()
    # Back to the page of the queue the call was made from, where the ticket's outcome form is.
    page = whole_number(str(request.state.form.get("follow_ups_page") or ""), high=100_000)
    on_page = f"&follow_ups_page={page}" if page is not None and page > 1 else ""
    return RedirectResponse(f"/operator?done=follow_up_call&ticket={quote(number)}&call={result.value}{on_page}"
                            "#follow-up", status_code=303)


routes = [
    Route("/operator/callbacks/{callback_id:id}/call", staff_only(call_missed, DISPATCH_ROLES), methods=["POST"]),
    Route("/operator/follow-up/{number}/call", staff_only(call_follow_up, DISPATCH_ROLES), methods=["POST"]),
]
