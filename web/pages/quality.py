"""质检 (dispatch/quality.py): supervisors draw each operator's sample of a period (the last 7
days by default), score a ticket on the checklist, and read 质检平均分 per operator for a month
with the latest inspections; operators read their own at /operator/quality (我的质检)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import assessment, quality
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES
from dispatch.errors import DispatchError, InvalidInput, Reason
from dispatch.numbers import whole_number
from dispatch.reports import Period
from web.auth import staff_only
from web.errors import status_of
from web.inputs import parse_day
from web.messages import describe
from web.pages.labels import (PERIOD_PRESETS_ZH, QUALITY_CLASSIFICATION_ZH, QUALITY_DONE_ZH,
                              QUALITY_NOT_APPLICABLE_ZH)
from web.pages.periods import month_param, parse_period, today_local
from web.pages.site import Site

PAGE = "/supervisor/quality"
SAMPLE_DAYS = 7   # a week's sample, as supervisors inspect weekly


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _common() -> dict[str, Any]:
    return {"checklist": quality.CHECKLIST, "full_marks": quality.FULL_MARKS,
            "classifications": QUALITY_CLASSIFICATION_ZH, "not_applicable": QUALITY_NOT_APPLICABLE_ZH,
            "max_comment": quality.MAX_COMMENT_CHARS}


async def quality_page(request: Request, *, period: Period | None = None, seed: int | None = None,
                       error: str | None = None, status: int = 200, typed: dict[str, str] | None = None) -> Response:
    site, user = _site(request), request.state.user
    today = today_local()
    period = period or parse_period(request, today, default_days=SAMPLE_DAYS)
    seed = seed if seed is not None else quality.parse_seed(request.query_params.get("seed"))
    month = assessment.parse_month(month_param(request, today, this_month=True))
    page = whole_number(request.query_params.get("page", ""), high=999_999) or 1

    def read(session: Any) -> tuple[Any, Any, Any]:
        return (quality.sample(session, user.actor, period, seed=seed),
                quality.figures(session, user.actor, assessment.month_period(month)),
                quality.inspections(session, user.actor, page))

    sample, figures, recent = await site.services.read(read)
    # The pager's links keep the sample and month shown; the note of a saved inspection is not repeated.
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "done")]
    pages = {n: f"{PAGE}?{urlencode([*kept, ('page', str(n))])}#recent-inspections" for n in
             (recent.page - 1, recent.page + 1)}
    return site.render(request, "supervisor_quality.html", {
        **_common(), "sample": sample, "figures": figures, "recent": recent, "recent_pages": pages,
        "month": month.strftime("%Y-%m"),
        "presets": PERIOD_PRESETS_ZH, "error": error, "typed": typed or {},
        "done": QUALITY_DONE_ZH.get(request.query_params.get("done", ""))}, status)


async def inspect(request: Request) -> Response:
    """One ticket's scores; back to the sample it was drawn in, or that sample again with the
    refusal in words and what was typed kept."""
    site, user = _site(request), request.state.user
    form = request.state.form
    typed = {k: str(form.get(k) or "")[:quality.MAX_COMMENT_CHARS * 2] for k in
             ("number", "comment", *(i.field for i in quality.CHECKLIST))}
    since, until = str(form.get("since") or ""), str(form.get("until") or "")
    period = Period(parse_day("since", since), parse_day("until", until)) if since and until else None
    seed = quality.parse_seed(str(form.get("seed") or ""))
    try:
        if not typed["number"]:
            raise InvalidInput("number", Reason.REQUIRED)
        await site.services.run(lambda s: quality.inspect(s, user.actor, typed["number"], typed))
    except DispatchError as exc:
        return await quality_page(request, period=period, seed=seed, error=describe(exc), status=status_of(exc),
                                  typed=typed)
    back = {"seed": str(seed), "done": "inspected"}
    if period is not None:
        back.update(since=period.since.isoformat(), until=period.until.isoformat())
    return RedirectResponse(f"{PAGE}?{urlencode(back)}", status_code=303)


async def own_page(request: Request) -> Response:
    """我的质检: the inspections of the tickets the user filed, and their month's figure."""
    site, user = _site(request), request.state.user
    month = assessment.parse_month(month_param(request, today_local(), this_month=True))

    def read(session: Any) -> tuple[Any, Any]:
        return (quality.own_inspections(session, user.actor),
                quality.figures(session, user.actor, assessment.month_period(month), operator_id=user.id))

    inspections, figures = await site.services.read(read)
    return site.render(request, "my_quality.html", {
        **_common(), "inspections": inspections, "figure": figures[0] if figures else None,
        "month": month.strftime("%Y-%m")})


routes = [Route(PAGE, staff_only(quality_page, SUPERVISING_ROLES), methods=["GET"]),
          Route(f"{PAGE}/inspections", staff_only(inspect, SUPERVISING_ROLES), methods=["POST"]),
          Route("/operator/quality", staff_only(own_page, DISPATCH_ROLES), methods=["GET"])]
