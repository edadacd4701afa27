"""The daily / weekly / monthly reports: supervisors list them all and download each as
HTML, PDF (when one could be made) or CSV; a unit lists the same reports and gets its own
part of each (its rows of the unit, overdue and notable tables), as HTML or CSV."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import periodic_reports
from dispatch.actors import SUPERVISING_ROLES
from dispatch.errors import NotFound, Reason
from dispatch.models import PeriodicReport, Unit
from web.auth import staff_only
from web.pages.labels import REPORT_KINDS_ZH, report_title
from web.pages.site import Site
from web.pages.unit import UNIT_ROLES
from web import report_files  # a module, not its names: it imports web.pages (charts) too

MEDIA = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _rows(session: Session) -> list[dict[str, Any]]:
    reports = periodic_reports.listed(session)
    with_pdf = periodic_reports.has_pdf(session, [r.id for r in reports])
    return [{"id": r.id, "kind": REPORT_KINDS_ZH.get(r.kind, r.kind),
             "title": report_title(r.kind, r.since.isoformat(), r.until.isoformat()),
             "generated_at": r.generated_at, "seconds": r.seconds, "pdf": r.id in with_pdf,
             "pdf_note": r.pdf_note, "pdf_waiting": r.id not in with_pdf and r.pdf_note is None}
            for r in reports]


async def listing(request: Request) -> Response:
    site = _site(request)
    rows = await site.services.run(_rows)
    unit = request.url.path.startswith("/unit/")
    return site.render(request, "reports.html", {"reports": rows, "base": "/unit/reports" if unit else "/supervisor/reports",
                                                 "unit": unit})


def _filename(report: PeriodicReport, fmt: str, suffix: str = "") -> str:
    return f"report-{report.kind}-{report.since.isoformat()}{suffix}.{fmt}"


def _download(body: str | bytes, fmt: str, filename: str) -> Response:
    disposition = "inline" if fmt == "html" else f'attachment; filename="{filename}"'
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})


async def supervisor_file(request: Request) -> Response:
    report_id, fmt = int(request.path_params["report_id"]), request.path_params["fmt"]

    def read(session: Session) -> tuple[PeriodicReport, str | bytes | None] | None:
        report = session.get(PeriodicReport, report_id)
        if report is None:
            return None
        return report, {"html": report.html, "csv": report.csv, "pdf": report.pdf}.get(fmt)

    found = await _site(request).services.run(read)
    if found is None or found[1] is None:
        raise NotFound(Reason.REPORT_NOT_FOUND, report_id=report_id, format=fmt)
    report, body = found
    return _download(body, fmt, _filename(report, fmt))  # type: ignore[arg-type]


async def unit_file(request: Request) -> Response:
    report_id, fmt = int(request.path_params["report_id"]), request.path_params["fmt"]
    unit_id = request.state.user.unit_id

    def read(session: Session) -> tuple[PeriodicReport, dict[str, Any], str] | None:
        report = session.get(PeriodicReport, report_id)
        unit = session.get(Unit, unit_id)
        if report is None or unit is None or fmt not in ("html", "csv"):
            return None
        return report, periodic_reports.unit_part(report.data, unit.id), unit.name

    found = await _site(request).services.run(read)
    if found is None:
        raise NotFound(Reason.REPORT_NOT_FOUND, report_id=report_id, format=fmt)
    report, part, name = found
    body = report_files.render_html(part, unit_name=name) if fmt == "html" else report_files.render_csv(part)
    return _download(body, fmt, _filename(report, fmt, "-unit"))


routes = [
    Route("/supervisor/reports", staff_only(listing, SUPERVISING_ROLES), methods=["GET"]),
    Route("/supervisor/reports/{report_id:id}.{fmt:str}", staff_only(supervisor_file, SUPERVISING_ROLES),
          methods=["GET"]),
    Route("/unit/reports", staff_only(listing, UNIT_ROLES), methods=["GET"]),
    Route("/unit/reports/{report_id:id}.{fmt:str}", staff_only(unit_file, UNIT_ROLES), methods=["GET"]),
]
