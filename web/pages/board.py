"""The public board (the "big screen"): 受理 / 待办 / 在办 / 办结 today and for a period,
each unit's rates, trend charts and recently resolved cases, updated live. /board?wall=1
is the same board for a wall screen: full width, large type, its panels taking turns.

Its pages are rendered once per change and served from memory (web.pages.board_cache)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.pages import compressed
from web.pages.periods import parse_period, today_local
from web.pages.site import BOARD_TOPIC, Site
from web.pages.streams import event_stream, sse


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def board(request: Request) -> Response:
    today = today_local()
    entry = await _site(request).board.get(parse_period(request, today), today)
    wall = request.query_params.get("wall") in ("1", "true", "yes")
    return compressed.response(request, entry.wall_page if wall else entry.page)


async def board_panel(request: Request) -> Response:
    today = today_local()
    entry = await _site(request).board.get(parse_period(request, today), today)
    return compressed.response(request, entry.panel)


async def board_events(request: Request) -> Response:
    site = _site(request)
    return event_stream(site.hub, [BOARD_TOPIC], lambda _topic, message: sse("board", message),
                        hello=sse("hello", {"generation": site.generation}))


routes = [
    Route("/board", board, methods=["GET"]),
    Route("/board/panel", board_panel, methods=["GET"]),
    Route("/board/events", board_events, methods=["GET"]),
]
