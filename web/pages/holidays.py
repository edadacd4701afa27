"""The holiday calendar page: supervisors see a year's holidays and make-up workdays, add a
range, remove a day, and import the State Council's notice as lines (previewed first).
Deadlines in this process follow at once; other processes within a few seconds."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import calendar_days
from dispatch.actors import SUPERVISING_ROLES
from dispatch.clock import local_date, utcnow
from dispatch.errors import DispatchError, InvalidInput, Reason
from dispatch.numbers import whole_number
from web.auth import staff_only
from web.errors import status_of
from web.messages import describe, describe_at_line
from web.pages import labels
from web.pages.site import Site

PATH = "/supervisor/holidays"


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _year(request: Request, today: dt.date) -> int:
    raw = request.query_params.get("year", "")
    year = whole_number(raw) or today.year
    return year if today.year - 10 <= year <= today.year + 10 else today.year


def _problems(planned: calendar_days.Plan) -> list[str]:
    return [describe_at_line(p.line, p.error) for p in planned.problems]


async def page(request: Request, *, year: int | None = None, error: str | None = None, status: int = 200,
               values: dict[str, str] | None = None, preview: calendar_days.Plan | None = None) -> Response:
    site = _site(request)
    today = local_date(utcnow())
    year = year or _year(request, today)

    def read(session: Session):  # type: ignore[no-untyped-def]
        days = calendar_days.read_snapshot(session).days
        # The years today's deadlines reach, and the year looked at.
        reached = calendar_days.coverage(days, [*calendar_days.years_reached(today), year])
        return calendar_days.year_view(session, year), calendar_days.years_listed(session, today), reached

    view, years, reached = await site.services.run(read)
    warnings = [labels.coverage_warning(c.year) for c in reached if c.basis == "weekends"]
    warnings += [labels.coverage_missing(c.year, c.missing) for c in reached if c.missing]
    return site.render(request, "holidays.html", {
        "view": view, "years": sorted(set(years) | {year}), "warnings": warnings, "error": error,
        "values": values or {}, "preview": preview, "problems": _problems(preview) if preview else [],
        "kinds": labels.CALENDAR_KINDS_ZH, "coverage_label": labels.COVERAGE_ZH[view.coverage.basis],
        "weekdays": labels.WEEKDAYS_ZH,
        "done": labels.HOLIDAYS_DONE_ZH.get(request.query_params.get("done", ""))}, status)


def _changed(site: Site) -> None:
    # This process's deadlines follow at once; the others look within a few seconds.
    site.services.rules.policy.calendar.table.invalidate()


async def add(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    values = {name: str(form.get(name) or "") for name in ("start", "end", "kind", "festival")}

    def work(session: Session) -> calendar_days.Plan:
        planned = calendar_days.plan_range(session, values["start"], values["end"], values["kind"],
                                           values["festival"])
        calendar_days.apply(session, planned, user.actor)
        return planned

    try:
        planned = await site.services.run(work)
    except DispatchError as exc:
        return await page(request, error=describe(exc), status=status_of(exc), values=values)
    _changed(site)
    # The year of the days entered (or, when all were set alike already, of the days asked).
    asked = planned.new or planned.unchanged
    year = asked[0].day.year if asked else local_date(utcnow()).year
    return RedirectResponse(f"{PATH}?year={year}&done={'added' if planned.new else 'unchanged'}", status_code=303)


async def remove(request: Request) -> Response:
    site, user = _site(request), request.state.user
    try:
        day = dt.date.fromisoformat(request.path_params["day"])
    except ValueError:
        exc = InvalidInput("day", Reason.BAD_DATE, value=request.path_params["day"])
        return await page(request, error=describe(exc), status=422)
    try:
        await site.services.run(lambda s: calendar_days.remove(s, day, user.actor))
    except DispatchError as exc:
        return await page(request, year=day.year, error=describe(exc), status=status_of(exc))
    _changed(site)
    return RedirectResponse(f"{PATH}?year={day.year}&done=removed", status_code=303)


async def import_lines(request: Request) -> Response:
    """`preview` shows what the lines would do; `apply` checks them again and writes them."""
    site, user, form = _site(request), request.state.user, request.state.form
    text = str(form.get("lines") or "")
    applying = form.get("step") == "apply"

    def work(session: Session) -> tuple[calendar_days.Plan, bool]:
        planned = calendar_days.plan_import(session, text)
        if applying and planned.ok:
            calendar_days.apply(session, planned, user.actor)
            return planned, True
        return planned, False

    try:
        planned, applied = await site.services.run(work)
    except DispatchError as exc:
        return await page(request, error=describe(exc), status=status_of(exc), values={"lines": text})
    if applied:
        _changed(site)
        return RedirectResponse(f"{PATH}?year={planned.new[0].day.year}&done=imported", status_code=303)
    year = (planned.new or planned.unchanged)[0].day.year if (planned.new or planned.unchanged) else None
    return await page(request, year=year, values={"lines": text}, preview=planned,
                      status=422 if planned.problems else 200)


routes = [
    Route(PATH, staff_only(page, SUPERVISING_ROLES), methods=["GET"]),
    Route(PATH, staff_only(add, SUPERVISING_ROLES), methods=["POST"]),
    Route(PATH + "/import", staff_only(import_lines, SUPERVISING_ROLES), methods=["POST"]),
    Route(PATH + "/{day}/remove", staff_only(remove, SUPERVISING_ROLES), methods=["POST"]),
]
