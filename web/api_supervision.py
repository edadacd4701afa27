"""The supervisors' figures over the staff API (bearer tokens): hotspots, the monthly unit
assessment and the operators' 质检平均分, the same data as /supervisor/hotspots,
/supervisor/assessment and /supervisor/quality; and 质检 itself: the inspections (an
operator's own, as on /operator/quality) and scoring a ticket, as the supervisor's form does."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import assessment, quality
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, require_role
from dispatch.errors import InvalidInput, Reason
from dispatch.numbers import whole_number
from web.api import MAX_JSON_BYTES, parse_json_object
from web.api_auth import bearer_only
from web.body_limit import read_body
from web.errors import BadRequest
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


async def list_inspections(request: Request) -> Response:
    """Inspections, newest first, 50 a page: an operator's own; supervisors and admins everyone's,
    or one operator's (?operator=username)."""
    services: Services = request.app.state.services
    actor = request.state.user.actor
    require_role(actor, DISPATCH_ROLES, "read inspections")
    page_text = request.query_params.get("page") or "1"
    page = whole_number(page_text)
    if not page:
        raise BadRequest("page", Reason.BAD_PAGE, value=page_text[:20])
    username = (request.query_params.get("operator") or "").strip()

    def work(session: Session) -> dict[str, Any]:
        operator_id = quality.operator_by_username(session, username) if username else None
        found = quality.inspections(session, actor, page, operator_id=operator_id)
        return {"inspections": [i.as_dict() for i in found.items], "page": found.page, "pages": found.pages,
                "total": found.total, "next_page": found.next_page}

    return JSONResponse(await services.read(work))


async def inspect(request: Request) -> Response:
    """质检 of one ticket: {"number", "score_service", "score_intake", "score_routing",
    "score_reply" (直接办结 only), "comment"}, checked as the supervisor's form is."""
    services: Services = request.app.state.services
    actor = request.state.user.actor
    require_role(actor, SUPERVISING_ROLES, "inspect a ticket")   # before the body is read
    params = parse_json_object(await read_body(request, MAX_JSON_BYTES))
    number = params.get("number")
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput("number", Reason.REQUIRED)

    def work(session: Session) -> dict[str, Any]:
        return quality.views_of(session, [quality.inspect(session, actor, number.strip(), params)])[0].as_dict()

    return JSONResponse(await services.run(work), status_code=201)


routes = [
    Route("/api/v1/hotspots", bearer_only(show_hotspots), methods=["GET"]),
    Route("/api/v1/assessment", bearer_only(show_assessment), methods=["GET"]),
    Route("/api/v1/quality", bearer_only(show_quality), methods=["GET"]),
    Route("/api/v1/quality/inspections", bearer_only(list_inspections), methods=["GET"]),
    Route("/api/v1/quality/inspections", bearer_only(inspect), methods=["POST"]),
]
