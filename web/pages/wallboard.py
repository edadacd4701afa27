"""The call wallboard (话务实时监控) for the call centre's wall screen, staff only: callers
waiting, agents by state, today's calls and rates, callbacks pending, and the alarms that
turn it red. It updates live: the bridge's writes ping the page through the hub, and the
page reads the figures again (also every few seconds, for other processes' bridges)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import wallboard
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES
from dispatch.vocabulary import PAUSE_REASONS_ZH
from web.auth import staff_only, stream_alive
from web.pages.labels import AGENT_STATES_ZH, OPERATOR_DONE_ZH as WALLBOARD_DONE_ZH, WALLBOARD_ALARMS_ZH
from web.pages.site import Site
from web.pages.streams import event_stream, sse
from web.services import Services
from web.telephony import CALLS_TOPIC


async def live_figures(services: Services) -> dict[str, Any]:
    """What the wallboard shows, as /api/v1/calls/live and the page's refresh give it."""
    policy = services.wallboard_policy()
    return await services.run(lambda s: wallboard.wallboard(s, policy=policy).as_dict())


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    """With the agents' list: state, 示忙 reason, paused time today; supervisors and admins
    get 示忙 / 示闲 on each row (web/pages/pause.py), for an agent who walked away."""
    site = _site(request)
    figures = await live_figures(site.services)
    user = request.state.user
    return site.render(request, "wallboard.html", {
        "figures": figures, "states": AGENT_STATES_ZH, "alarm_words": WALLBOARD_ALARMS_ZH,
        "pbx": getattr(request.app.state, "bridge", None) is not None,
        "pause_reasons": PAUSE_REASONS_ZH, "may_pause": user.role in SUPERVISING_ROLES,
        "error": error, "done": WALLBOARD_DONE_ZH.get(request.query_params.get("done") or "")}, status)


async def figures(request: Request) -> Response:
    return JSONResponse(await live_figures(_site(request).services), headers={"Cache-Control": "no-store"})


async def events(request: Request) -> Response:
    return event_stream(_site(request).hub, [CALLS_TOPIC], lambda _topic, message: sse("calls", message),
                        hello=sse("hello", {}), alive=stream_alive(request))


routes = [
    Route("/wallboard", staff_only(page, DISPATCH_ROLES), methods=["GET"]),
    Route("/wallboard/figures", staff_only(figures, DISPATCH_ROLES), methods=["GET"]),
    Route("/wallboard/events", staff_only(events, DISPATCH_ROLES), methods=["GET"]),
]
