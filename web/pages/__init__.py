"""The pages (zh-CN, server-rendered): public ones for citizens and the staff consoles.

`routes` goes into the app's route list; `running(services, hub)` builds what they share
(web.pages.site.Site) in the lifespan, to be kept as app.state.site.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

# Before any page module is imported: their routes use the `{name:id}` path convertor (here,
# not in web/__init__.py, so that `hotline --help` loads no Starlette).
from web import ids as _ids  # noqa: F401
from web.pages import (admin, board, calls, catalogue, holidays, kb, login, operator, pause, public, quality,
                       reply_templates, reports, rules, search, shift_handover, staff_notices, supervision, supervisor,
                       tickets, unit, wallboard)
from web.pages.site import STATIC_DIR, Site, running


async def favicon(_request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the pages link to (feed readers, bookmarks)."""
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


routes: list[BaseRoute] = [
    *public.routes, *board.routes, *login.routes, *operator.routes, *pause.routes, *shift_handover.routes, *quality.routes,
    *calls.routes, *unit.routes, *staff_notices.routes, *supervisor.routes, *rules.routes,
    *holidays.routes, *catalogue.routes, *supervision.routes, *kb.routes,
    *tickets.routes, *search.routes, *admin.routes, *reply_templates.routes, *wallboard.routes, *reports.routes,
    Route("/favicon.ico", favicon, methods=["GET", "HEAD"]),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]

__all__ = ["Site", "routes", "running"]
