"""The supervisors' figures over the staff API (bearer tokens): hotspots and the monthly
unit assessment, the same data as /supervisor/hotspots and /supervisor/assessment."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import assessment
from dispatch.actors import SUPERVISING_ROLES, require_role
from web.api_auth import bearer_only
from web.pages.periods import hotspot_period, month_param, today_local
from web.services import Services


async def show_hotspots(request: Request) -> Response:
    services: Services = request.app.state.services
    require_role(request.state.user.actor, SUPERVISING_ROLES, "read hotspots")
    period = hotspot_period(request, today_local())
    return JSONResponse(await services.run(lambda s: services.hotspots(s, period.since, period.until)))


async def show_assessment(request: Request) -> Response:
    services: Services = request.app.state.services
    require_role(request.state.user.actor, SUPERVISING_ROLES, "read the assessment")
    month = assessment.parse_month(month_param(request, today_local()))
    return JSONResponse(await services.run(
        lambda s: assessment.assessment(s, month, rules=services.assessment_rules())))


routes = [
    Route("/api/v1/hotspots", bearer_only(show_hotspots), methods=["GET"]),
    Route("/api/v1/assessment", bearer_only(show_assessment), methods=["GET"]),
]
