"""The daily / weekly / monthly reports as files: HTML with charts (one document, styles and
SVG inline, so it opens anywhere and prints as it shows), CSV (every table, one after the
other), and PDF through web/report_pdf.py where an engine exists. The figures are
dispatch/periodic_reports.py's; the scheduler's job make_due() keeps what is due once."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from dispatch import periodic_reports
from dispatch.models import PeriodicReport
from dispatch.queries import DayFigures
from dispatch.reports import Period
from web import report_pdf
from web.pages import charts
from web.pages.labels import (LABELS_ZH, REPORT_NO_PDF, REPORT_OVERDUE_MEANS, REPORT_PDF_FAILED, REPORT_PDF_OFF,
                              REPORT_ZH, SERVICE_LEVEL_SECONDS, UNCATEGORISED, local_time, percent, report_column,
                              report_section, report_table, report_title, report_word, seconds)
from web.pages.site import TEMPLATES_DIR
from web.services import Services

log = logging.getLogger(__name__)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(word=report_word, section=report_section, table_title=report_table)
    return env


_ENV = _environment()


def cell(value: Any, kind: str) -> str:
    """A value as the report shows it."""
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return percent(value)
    if kind == "time":
        return local_time(value)
    if kind == "seconds":
        return seconds(value)
    if kind == "label":
        return LABELS_ZH.get(value) or REPORT_ZH.get(value) or str(value)
    return str(value)


def csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.1f}"
    if kind == "seconds":
        return f"{value:.1f}"
    if kind in ("label", "time"):
        return cell(value, kind)
    return value


def heading(key: str, kind: str, section: dict[str, Any], table: str = "") -> str:
    word = report_column(table, key)
    if key == "service_level":
        word += SERVICE_LEVEL_SECONDS.format(seconds=section.get('figures', {}).get('service_level_seconds', 20))
    return word + ("(%)" if kind == "rate" else "")


def _shown(key: str, value: Any) -> Any:
    """A row's value before its kind words it: a ticket the catalogue has not placed is 未分类
    in the table as in the chart beside it (stored as "")."""
    return UNCATEGORISED if key == "category" and not value else value


def _charts(section: dict[str, Any]) -> list[Markup]:
    drawn = []
    for chart in section.get("charts", []):
        if chart["kind"] == "daily" and len(chart["days"]) > 1:
            days = [DayFigures(dt.date.fromisoformat(d), r, s) for d, r, s in chart["days"]]
            drawn += [charts.daily_bars(days), charts.rate_line(days)]
        elif chart["kind"] == "bars" and chart["items"]:
            drawn.append(charts.hbars([(label or UNCATEGORISED, n) for label, n in chart["items"]],
                                      title=report_section(chart["name"])))
    return drawn


def render_html(data: dict[str, Any], *, unit_name: str | None = None) -> str:
    sections = [{"key": s["key"], "charts": _charts(s), "figures": s.get("figures", {}),
                 "previous": s.get("previous"),
                 "tables": [{"name": t["name"],
                             "headings": [heading(k, kind, s, t["name"]) for k, kind in t["columns"]],
                             "numeric": [kind in ("int", "rate", "seconds", "number") for _, kind in t["columns"]],
                             "rows": [[cell(_shown(k, v), kind) for v, (k, kind) in zip(row, t["columns"])]
                                      for row in t["rows"]]}
                            for t in s.get("tables", [])]}
                for s in data["sections"]]
    title = report_title(data["kind"], data["since"], data["until"])
    if unit_name:
        title += f" · {unit_name}"
    return _ENV.get_template("report.html").render(title=title, sections=sections, unit_name=unit_name,
                                                   since=data["since"], until=data["until"],
                                                   overdue_means=REPORT_OVERDUE_MEANS,
                                                   generated_at=local_time(data["generated_at"]))


def render_csv(data: dict[str, Any]) -> str:
    """Every table under a line naming it; opened by Excel as UTF-8 thanks to the BOM."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([report_title(data["kind"], data["since"], data["until"])])
    for section in data["sections"]:
        for table in section.get("tables", []):
            writer.writerow([])
            # A section's own table is named once (话务, not 话务 / 话务).
            named = report_section(section["key"])
            if table["name"] != section["key"]:
                named += f" / {report_section(table['name'])}"
            writer.writerow([named])
            writer.writerow([heading(k, kind, section, table["name"]) for k, kind in table["columns"]])
            for row in table["rows"]:
                writer.writerow([csv_cell(_shown(k, v), kind) for v, (k, kind) in zip(row, table["columns"])])
    return out.getvalue()


def make_due(session: Session, now: dt.datetime, services: Services) -> list[str]:
    """The scheduler's job: each due report not yet kept is made and kept, once."""
    made = []
    for kind, period in periodic_reports.due_periods(now):
        if periodic_reports.exists(session, kind, period):
            continue
        report = make(session, kind, period, now, services)
        if report is not None:
            made.append(f"{kind}:{period.since.isoformat()}")
    return made


def make(session: Session, kind: str, period: Period, now: dt.datetime, services: Services) -> Any:
    """The figures, HTML and CSV, kept in one short transaction; the PDF is printed after,
    outside any transaction (print_waiting): chromium takes seconds, and on SQLite a
    transaction holds every other writer."""
    started = time.perf_counter()
    data = periodic_reports.build(session, kind, period, now, services.call_policy(),
                                  assessment_rules=services.assessment_rules(),
                                  hotspot_rules=services.hotspot_rules(), calendar=services.rules.policy.calendar)
    html, text = render_html(data), render_csv(data)
    note = None if services.settings.report_pdf else REPORT_PDF_OFF
    seconds = time.perf_counter() - started
    report = periodic_reports.store(session, kind, period, data, html=html, csv=text, pdf=None, pdf_note=note,
                                    seconds=seconds, now=now)
    log.info("report made", extra={"event": "periodic_report", "kind": kind, "since": period.since.isoformat(),
                                   "seconds": round(seconds, 2)})
    return report


async def print_pdf(html: str, chromium: str | None) -> tuple[bytes | None, str | None]:
    """The PDF, or None and why there is none (the report goes out without it)."""
    try:
        return await report_pdf.print_pdf(html, chromium), None
    except report_pdf.NoEngine:
        return None, REPORT_NO_PDF
    except Exception:  # a PDF engine failing costs the PDF, never the report
        log.exception("report PDF failed", extra={"event": "report_pdf_failed"})
        return None, REPORT_PDF_FAILED


async def print_waiting(services: Services) -> int:
    """Print the PDF of every report kept without one; each read, printed and written back
    in steps of its own, so no transaction waits on chromium."""
    printed = 0
    for report_id in await services.run(periodic_reports.waiting_for_pdf):
        html = await services.run(lambda s, i=report_id: s.get_one(PeriodicReport, i).html)
        pdf, note = await print_pdf(html, services.settings.chromium)
        if await services.run(lambda s, i=report_id: periodic_reports.attach_pdf(s, i, pdf, note)):
            printed += pdf is not None
            log.info("report PDF", extra={"event": "periodic_report_pdf", "report": report_id,
                                          "pdf": pdf is not None})
    return printed
