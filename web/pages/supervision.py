"""The supervisors' 热点 and 考核 pages: what is flaring up and where, and each unit's month in
tiers. The figures come from dispatch.hotspots and dispatch.assessment, the same data the API
and the scheduled reports give."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import assessment
from dispatch.actors import SUPERVISING_ROLES
from web.auth import staff_only
from web.pages.periods import hotspot_period, month_param, today_local
from web.pages.site import Site


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def hotspots_page(request: Request) -> Response:
    site = _site(request)
    period = hotspot_period(request, today_local())
    services = site.services
    found = await services.run(lambda s: services.hotspots(s, period.since, period.until))
    return site.render(request, "hotspots.html", {"period": period, "found": found})


async def assessment_page(request: Request) -> Response:
    site = _site(request)
    month = assessment.parse_month(month_param(request, today_local()))
    kind = request.query_params.get("kind") or ""
    services = site.services
    found = await services.run(lambda s: assessment.assessment(s, month, rules=services.assessment_rules()))
    units = [u for u in found["units"] if not kind or u["unit_kind"] == kind]
    counts = {tier: sum(1 for u in units if u["tier"] == tier) for tier in (*found["tiers"], None) if tier != "none"}
    return site.render(request, "assessment.html", {"found": found, "units": units, "kind": kind,
                                                    "counts": counts})


routes = [
    Route("/supervisor/hotspots", staff_only(hotspots_page, SUPERVISING_ROLES), methods=["GET"]),
    Route("/supervisor/assessment", staff_only(assessment_page, SUPERVISING_ROLES), methods=["GET"]),
]
