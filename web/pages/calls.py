"""One-click calls from the operator console, through the PBX: 回拨 a missed call from the
callback list, or call the citizen of a resolved ticket for its follow-up (回访). The phone
that rings first is the operator's own, as chosen on the console; callcenter/ dials and
logs the attempt, the operator then records what came of it."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from callcenter.callbacks import begin_call_back, call_about_ticket, finish_call_back
from dispatch import callback_dialing
from dispatch.actors import DISPATCH_ROLES
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, Reason
from dispatch.numbers import whole_number
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe, words
from web.pages.operator import callback_message, console
from web.pages.site import Site
from web.placed_calls import PlacedCalls
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


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def call_missed(request: Request) -> Response:
    """回拨: the call is placed in the background and the click returns at once (the PBX takes
    up to a minute and a half to say whether the citizen answered). The row then shows
    正在回拨…, read from the missed call's own mark, and the outcome once it is recorded
    (`callback_state`, which the console's script asks for)."""
    ready = _ready(request)
    if isinstance(ready, str):
        if _wants_json(request):
            return JSONResponse({"error": ready}, status_code=409)
        return await console(request, error=ready, status=409)
    bridge, agent = ready
    site, user = _site(request), request.state.user
    callback_id = int(request.path_params["callback_id"])
    try:
        citizen = await begin_call_back(site.services.sessions, callback_id, user.actor)
    except (Conflict, InvalidInput, NotFound) as exc:
        if _wants_json(request):
            return JSONResponse({"error": describe(exc)}, status_code=status_of(exc))
        return await console(request, error=describe(exc), status=status_of(exc))
    placed: PlacedCalls = request.app.state.placed_calls
    placed.start(finish_call_back(bridge, site.services.sessions, callback_id, user.actor, agent, citizen),
                 name=f"callback-{callback_id}")
    if _wants_json(request):
        return JSONResponse(callback_message(await site.services.read(
            lambda s: callback_dialing.state(s, callback_id))), status_code=202)
    return RedirectResponse("/operator?done=calling#callbacks", status_code=303)


async def callback_state(request: Request) -> Response:
    """A missed call being called back, as its row shows it: 正在回拨…, then what came of it."""
    callback_id = int(request.path_params["callback_id"])
    try:
        state = await _site(request).services.read(lambda s: callback_dialing.state(s, callback_id))
    except NotFound as exc:
        return JSONResponse({"error": describe(exc)}, status_code=404)
    return JSONResponse(callback_message(state))


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
    Route("/operator/callbacks/{callback_id:id}/state", staff_only(callback_state, DISPATCH_ROLES), methods=["GET"]),
    Route("/operator/follow-up/{number}/call", staff_only(call_follow_up, DISPATCH_ROLES), methods=["POST"]),
]
