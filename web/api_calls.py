"""GET /api/v1/calls/live: the call wallboard's figures in JSON, for staff who dispatch
(operators, supervisors, administrators) with a bearer token."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch.actors import DISPATCH_ROLES, require_role
from web.api_auth import bearer_only
from web.pages.wallboard import live_figures


async def calls_live(request: Request) -> Response:
    require_role(request.state.user.actor, DISPATCH_ROLES, "read the call wallboard")
    return JSONResponse(await live_figures(request.app.state.services), headers={"Cache-Control": "no-store"})


routes = [Route("/api/v1/calls/live", bearer_only(calls_live), methods=["GET"])]
