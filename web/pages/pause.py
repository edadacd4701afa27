"""示忙 / 示闲 from the operator console (the operator's own phone) and from the wallboard's
agent list (supervisors, for any agent): one AMI QueuePause through the PBX bridge, this
process's or the holder's over the relay. The state shown follows the PBX's QueueMemberPause
events, as the bridge writes them; a request the PBX accepted is on the staff activity log."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from callcenter.bridge import ActionFailed, AmiError
from dispatch import agent_pause
from dispatch.actors import DISPATCH_ROLES
from dispatch.errors import DispatchError, InvalidInput, PermissionDenied, Reason
from dispatch.vocabulary import PAUSE_REASONS_ZH
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe, words
from web.pages.operator import _AGENT, console
from web.pages import wallboard
from web.pages.site import Site
from web.telephony import pbx_bridge

# Where a form without script comes back to: the console, or the wallboard's agent list.
BACK = {"operator": "/operator", "wallboard": "/wallboard"}


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _refuse(request: Request, error: str, status: int) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": error}, status_code=status)
    if request.state.form.get("back") == "wallboard":
        return await wallboard.page(request, error=error, status=status)
    return await console(request, error=error, status=status)


async def pause(request: Request) -> Response:
    """Form fields: `paused` (1 示忙, 0 示闲), `reason` (PauseReason, for 示忙), `interface`
    (the operator's chosen phone when left out)."""
    site, user, form = _site(request), request.state.user, request.state.form
    session_data = site.auth.session(request)
    own = session_data.agent if session_data else None
    interface = str(form.get("interface") or own or "").strip()
    paused = form.get("paused") == "1"
    try:
        if not interface:
            raise InvalidInput("interface", Reason.NO_AGENT)
        if not _AGENT.match(interface):
            raise InvalidInput("interface", Reason.BAD_AGENT)
        agent_pause.check_may_pause(user.actor, interface, own)
        reason = agent_pause.parse_reason(str(form.get("reason") or "")) if paused else None
    except (InvalidInput, PermissionDenied) as exc:
        return await _refuse(request, describe(exc), status_of(exc))
    bridge = pbx_bridge(request.app.state)
    if bridge is None:
        return await _refuse(request, words(Reason.PAUSE_NO_PBX, {}), 409)
    try:
        await bridge.pause(interface, paused, reason.value if reason else "")
    except ActionFailed as exc:
        return await _refuse(request, words(Reason.PAUSE_REFUSED, {"interface": interface, "message": exc.message}), 409)
    except AmiError:  # not connected, no answer in time, or no process holding the bridge
        return await _refuse(request, words(Reason.PAUSE_NO_PBX, {}), 409)
    try:
        await site.services.run(lambda s: agent_pause.record_request(s, user.actor, interface, paused, reason))
    except DispatchError as exc:  # the PBX acted; the log could not say so
        return await _refuse(request, describe(exc), status_of(exc))
    if _wants_json(request):
        return JSONResponse({"interface": interface, "paused": paused, "reason": reason.value if reason else None,
                             "reason_label": PAUSE_REASONS_ZH.get(reason.value) if reason else None})
    back = BACK.get(str(form.get("back") or ""), "/operator")
    return RedirectResponse(f"{back}?done={'paused' if paused else 'unpaused'}", status_code=303)


routes = [
    Route("/operator/pause", staff_only(pause, DISPATCH_ROLES), methods=["POST"]),
]
