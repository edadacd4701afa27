"""The supervisors' figures over the staff API (bearer tokens): hotspots, the monthly unit
assessment and the operators' 质检平均分, the same data as /supervisor/hotspots,
/supervisor/assessment and /supervisor/quality."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import assessment, quality
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


async def show_quality(request: Request) -> Response:
    """质检平均分 per operator over the inspected tickets received in the month (this month by default)."""
    services: Services = request.app.state.services
    actor = request.state.user.actor
    require_role(actor, SUPERVISING_ROLES, "read the inspection figures")
    month = assessment.parse_month(month_param(request, today_local(), this_month=True))
    period = assessment.month_period(month)
    found = await services.read(lambda s: quality.figures(s, actor, period))
    return JSONResponse({"month": month.strftime("%Y-%m"),
                         "period": {"since": period.since.isoformat(), "until": period.until.isoformat()},
                         "full_marks": quality.FULL_MARKS,
                         "checklist": [{"item": i.key, "name": i.words, "points": i.points} for i in quality.CHECKLIST],
                         "operators": [f.as_dict() for f in found]})


routes = [
    Route("/api/v1/hotspots", bearer_only(show_hotspots), methods=["GET"]),
    Route("/api/v1/assessment", bearer_only(show_assessment), methods=["GET"]),
    Route("/api/v1/quality", bearer_only(show_quality), methods=["GET"]),
]
