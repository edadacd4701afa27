"""The pages (zh-CN, server-rendered): public ones for citizens and the staff consoles.

`routes` goes into the app's route list; `running(services, hub)` builds what they share
(web.pages.site.Site) in the lifespan, to be kept as app.state.site.
"""
from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from web.pages import admin, board, calls, login, operator, public, rules, supervisor, tickets, unit
from web.pages.site import STATIC_DIR, Site, running

routes: list[BaseRoute] = [
    *public.routes, *board.routes, *login.routes, *operator.routes, *calls.routes, *unit.routes, *supervisor.routes, *rules.routes,
    *tickets.routes, *admin.routes,
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]

__all__ = ["Site", "routes", "running"]
