"""The daily / weekly / monthly reports as people get them: the scheduler's job makes each
due report once (twice run, one kept), supervisors list and download HTML, PDF and CSV, a
unit gets its own part, other roles get nothing; and the report opened in a real browser,
its PDF printed by chromium."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import local_date, local_day_start, utcnow
from dispatch.models import PeriodicReport
from tests.web.pages_support import client_for, login, seed_demo
from tests.web.server import ServerThread
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, _browser_or_skip
from tests.web.test_browser import login as browser_login
from web import report_files, scheduler
from web.app import create_app
from web.config import Settings
from web.pages.labels import REPORT_NO_PDF, REPORT_PDF_OFF
from web.services import Services

def later() -> dt.datetime:
    """Ten in the morning, China time, the day after the demo's sample tickets were filed:
    "yesterday" is their day, and an hour later is still the same day (a time a day from now
    crossed midnight when the tests ran after 23:00 China time)."""
    return local_day_start(local_date(utcnow()) + dt.timedelta(days=1)) + dt.timedelta(hours=10)


def run_report_job(services: Services, now: dt.datetime | None = None) -> Any:
    (job,) = [job for name, job in scheduler.jobs(services) if name == "periodic_reports"]
    return services.run_sync(lambda s: job(s, now or later()))


def kept(services: Services) -> list[PeriodicReport]:
    with services.sessions() as session:
        return list(session.scalars(select(PeriodicReport).order_by(PeriodicReport.id)))


@pytest.fixture
def quick(database_url: str, sessions: sessionmaker[Session]) -> Iterator[Services]:
    """The demo site, its reports without PDF (chromium is the browser test's)."""
    services = Services.build(Settings(database_url=database_url, reports=True, report_pdf=False))
    seed_demo(services)  # the demo, from the run's snapshot when there is one
    yield services
    services.close()


def test_an_overdue_list_cut_short_says_so() -> None:
    from dispatch.periodic_reports import OVERDUE_LISTED, unit_part

    columns = [["number", "text"], ["title", "text"], ["unit", "text"], ["state", "label"]]
    rows = [[f"20261101-{n:04d}", "路灯", "住建局", "in_progress"] for n in range(OVERDUE_LISTED)]
    data = {"kind": "month", "since": "2026-11-01", "until": "2026-11-30", "generated_at": utcnow().isoformat(),
            "sections": [{"key": "overdue", "figures": {"overdue": 98},
                          "tables": [{"name": "overdue", "columns": columns, "rows": rows,
                                      "unit_ids": [3] * OVERDUE_LISTED}]}]}
    city = report_files.render_html(data)
    assert f"超期共 98 条，下表列出超期最久的 {OVERDUE_LISTED} 条" in city
    data["sections"][0]["figures"]["overdue"] = 7
    data["sections"][0]["tables"][0]["rows"] = rows[:7]
    assert "超期共 7 条。" in report_files.render_html(data)
    data["sections"].append({"key": "tiers", "figures": {"month": "2026-11"}, "tables": []})
    assert "2026-11 的考核分档，截至报告生成时" in report_files.render_html(data)
    part = report_files.render_html(unit_part(data, 3), unit_name="住建局")
    assert "取自全市报告所列超期最久的工单" in part and "超期共" not in part


def test_a_units_part_says_what_period_each_of_its_tables_covers() -> None:
    """A unit's week beside its month's 考核 read as two sets of figures under the same names,
    and its overdue count was sent to the city's report, which unit staff cannot open."""
    from dispatch.periodic_reports import unit_part

    units = [["unit", "text"], ["received", "int"], ["resolution_rate", "rate"], ["overdue", "int"]]
    tiers = [["unit", "text"], ["tier", "text"], ["resolution_rate", "rate"]]
    data = {"kind": "week", "since": "2026-11-30", "until": "2026-12-06", "generated_at": utcnow().isoformat(),
            "sections": [{"key": "units", "tables": [{"name": "units", "columns": units, "unit_ids": [3, 4],
                                                      "rows": [["住建局", 59, 0.203, 2], ["教育局", 9, 1.0, 0]]}]},
                         {"key": "tiers", "figures": {"month": "2026-12", "A": 1, "B": 0},
                          "tables": [{"name": "tiers", "columns": tiers, "unit_ids": [3, 4],
                                      "rows": [["住建局", "一般", 0.632], ["教育局", "好", 1.0]]}]},
                         {"key": "overdue", "figures": {"overdue": 9},
                          "tables": [{"name": "overdue", "columns": units[:1], "rows": [["住建局"]],
                                      "unit_ids": [3]}]}]}
    part = unit_part(data, 3)
    assert [s.get("figures") for s in part["sections"]] == [None, {"month": "2026-12"}, None]  # no city counts
    page = report_files.render_html(part, unit_name="住建局")
    assert "2026-11-30 至 2026-12-06 受理的工单转办给各单位的情况" in page
    assert "2026-12 的考核分档" in page and "与上方“承办单位”表的同名比率可以不同" in page
    assert "本单位超期总数见上方“承办单位”表的“超期”列" in page and "见全市报告" not in page


def _unit_week() -> dict[str, Any]:
    """A unit's week as the demo's housing bureau saw it: 0 超期 among the week's tickets while
    its inbox counted 10 received before the week, and 不定档 in its month's 考核."""
    from dispatch.periodic_reports import TIER_COLUMNS, UNIT_COLUMNS

    return {"kind": "week", "since": "2026-11-30", "until": "2026-12-06", "generated_at": utcnow().isoformat(),
            "sections": [{"key": "units", "tables": [{"name": "units", "columns": [list(c) for c in UNIT_COLUMNS],
                                                      "unit_ids": [3],
                                                      "rows": [["济源示范区住房和城乡建设局", 159, 147, 11, 46, 0.925,
                                                                0.069, 0.289, 0.978, 0.897, 0]]}]},
                         {"key": "tiers", "figures": {"month": "2026-12"},
                          "tables": [{"name": "tiers", "columns": [list(c) for c in TIER_COLUMNS], "unit_ids": [3],
                                      "rows": [["济源示范区住房和城乡建设局", "不定档", 0.852, 154, 110, 0.75, 0.947,
                                                1.0, 0.732, 11, "tier_too_few"]]}]},
                         {"key": "overdue", "tables": [{"name": "overdue", "columns": [["number", "text"]],
                                                        "rows": [], "unit_ids": []}]}]}


def test_a_units_report_says_what_its_overdue_counts_and_why_it_has_no_tier() -> None:
    """The report's 超期 (of the period's tickets) read as a contradiction of the inbox's (every
    open ticket past its deadline now), and 不定档 came without a reason."""
    from web.pages.labels import REPORT_OVERDUE_MEANS

    page = report_files.render_html(_unit_week(), unit_name="住建局")
    assert page.count(REPORT_OVERDUE_MEANS) == 2  # under the units table and in the overdue section
    assert "本期受理" in REPORT_OVERDUE_MEANS and "工作台" in REPORT_OVERDUE_MEANS
    assert "不定档原因" in page and "已到期的转办太少，得分区间过宽" in page
    assert "不定档原因" in report_files.render_csv(_unit_week())


def test_a_units_report_on_a_phone_scrolls_its_wide_tables_in_their_own_box() -> None:
    sync_playwright = _browser_or_skip()
    page_html = report_files.render_html(_unit_week(), unit_name="济源示范区住房和城乡建设局")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=PHONE, locale="zh-CN")
            page.set_content(page_html)
            table = page.locator("#table-tiers")
            assert table.evaluate("t => t.scrollWidth") > PHONE["width"]  # the table is wider than the phone
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert table.evaluate("t => getComputedStyle(t.parentElement).overflowX") == "auto"
        finally:
            browser.close()


def test_the_job_makes_each_due_report_once(quick: Services) -> None:
    made = run_report_job(quick)
    assert [m.split(":")[0] for m in made] == ["day", "week", "month"]
    assert run_report_job(quick) == []
    assert run_report_job(quick, later() + dt.timedelta(hours=1)) == []
    reports = kept(quick)
    assert [r.kind for r in reports] == ["day", "week", "month"]
    assert all(r.pdf is None and r.pdf_note == REPORT_PDF_OFF and "话务" in r.html for r in reports)
    # The next day brings the next daily report, and the weekly or monthly one only when that
    # day begins a week (Monday) or a month (when the tests run on a Saturday or a month's last
    # day, China time).
    next_day = local_date(later()) + dt.timedelta(days=1)
    due = ["day"] + ["week"] * (next_day.weekday() == 0) + ["month"] * (next_day.day == 1)
    assert [m.split(":")[0] for m in run_report_job(quick, later() + dt.timedelta(days=1))] == due


def test_without_a_pdf_engine_the_report_still_comes_as_html_and_csv(quick: Services) -> None:
    missing = dataclasses.replace(quick, settings=dataclasses.replace(quick.settings, report_pdf=True,
                                                                       chromium="/nonexistent/chromium"))
    run_report_job(missing)
    assert all(r.pdf is None and r.pdf_note is None for r in kept(quick))  # to be printed, after the job
    assert asyncio.run(report_files.print_waiting(missing)) == 0
    (day, *_) = kept(quick)
    assert day.pdf is None and day.pdf_note == REPORT_NO_PDF
    assert day.html.startswith("<!doctype html>") and day.csv.startswith("\ufeff12345 热线日报")
    # Each table under one line naming it: a section's own table once, another as section / table.
    names = [line for line in day.csv.splitlines() if line and "," not in line][1:]
    assert "话务" in names and "话务 / 话务" not in day.csv and any(" / " in n for n in names)


def test_supervisors_download_every_format_and_units_their_own_part(quick: Services) -> None:
    run_report_job(quick)
    month = kept(quick)[2]
    for client in client_for(quick):
        assert client.get("/supervisor/reports").status_code in (302, 303)
        login(client, "operator")
        assert client.get("/supervisor/reports").status_code == 403
        assert client.get("/unit/reports").status_code == 403

        login(client, "supervisor")
        listing = client.get("/supervisor/reports")
        # (The app's own scheduler may have made today's due reports meanwhile.)
        assert listing.status_code == 200 and listing.text.count("data-report=") >= 3
        assert f"/supervisor/reports/{month.id}.html" in listing.text and "无 PDF" in listing.text
        html = client.get(f"/supervisor/reports/{month.id}.html")
        assert html.status_code == 200 and html.text == month.html
        csv = client.get(f"/supervisor/reports/{month.id}.csv")
        assert csv.headers["content-type"].startswith("text/csv") and "attachment" in csv.headers["content-disposition"]
        assert csv.text.lstrip("\ufeff").startswith("12345 热线月报")
        assert client.get(f"/supervisor/reports/{month.id}.pdf").status_code == 404  # none was made
        assert client.get("/supervisor/reports/999999.html").status_code == 404

        login(client, "housing")
        assert client.get(f"/supervisor/reports/{month.id}.html").status_code == 403
        mine = client.get("/unit/reports")
        assert mine.status_code == 200 and f"/unit/reports/{month.id}.html" in mine.text
        assert f"{month.id}.pdf" not in mine.text
        part = client.get(f"/unit/reports/{month.id}.html").text
        assert "住房和城乡建设局" in part and "本单位部分" in part
        # The city's own sections stay with the supervisors; other units' rows too.
        assert 'id="section-calls"' not in part and 'id="section-tickets"' not in part
        assert "生态环境局" not in part and "沁园街道" not in part
        unit_csv = client.get(f"/unit/reports/{month.id}.csv").text
        assert "话务" not in unit_csv
        assert client.get(f"/unit/reports/{month.id}.pdf").status_code == 404


def test_a_report_opens_in_the_browser_and_prints_to_pdf(database_url: str, sessions: sessionmaker[Session]) -> None:
    sync_playwright = _browser_or_skip()
    services = Services.build(Settings(database_url=database_url, reports=True, report_pdf=True,
                                         chromium=CHROMIUM))
    seed_demo(services)  # the demo, from the run's snapshot when there is one
    try:
        run_report_job(services)
        # chromium prints the PDFs after the job's transaction, before the test's own browser starts
        assert asyncio.run(report_files.print_waiting(services)) == 3
        assert asyncio.run(report_files.print_waiting(services)) == 0
        reports = kept(services)
        assert all(r.pdf is not None and r.pdf.startswith(b"%PDF") and r.pdf_note is None for r in reports)
        week = reports[1]
        with ServerThread(create_app(services.settings, services)) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            context.set_default_timeout(15_000)
            try:
                page = browser_login(context, server.url, "supervisor")
                page.goto(server.url + "/supervisor/reports")
                page.click(f"tr[data-report='{week.id}'] a:text('HTML')")
                page.wait_for_selector("#report-title")
                assert "周报" in page.inner_text("#report-title")
                assert page.locator("#section-tickets svg.chart").count() >= 2  # the daily bars and rate line
                assert page.locator("#table-rates tbody tr").count() == 8
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "report-week-desktop.png"), full_page=True)
                page.goto(server.url + "/supervisor/reports")
                pdf = page.request.get(f"{server.url}/supervisor/reports/{week.id}.pdf")
                assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
                assert pdf.body() == week.pdf
                # Not without a login.
                assert httpx.get(f"{server.url}/supervisor/reports/{week.id}.pdf").status_code in (302, 303)
            finally:
                context.close()
                browser.close()
    finally:
        services.close()
    with sessions() as session:  # the app's scheduler made no second copy of any
        kinds = session.execute(select(PeriodicReport.kind, PeriodicReport.since)).all()
        assert len(kinds) == len(set(kinds)) >= 3


def test_reports_are_made_by_default_under_hotline_serve_and_can_be_turned_off() -> None:
    assert Settings.from_env({}).reports is True and Settings.from_env({}).report_pdf is True
    assert Settings.from_env({"HOTLINE_REPORTS": "no"}).reports is False
    assert Settings.from_env({"HOTLINE_REPORT_PDF": "off"}).report_pdf is False
    with pytest.raises(ValueError, match="HOTLINE_REPORT_PDF"):
        Settings.from_env({"HOTLINE_REPORT_PDF": "maybe"})
    # An app built in code (tests, scripts) makes none behind its back.
    services = Services.build(Settings(database_url="sqlite://"))
    try:
        assert "periodic_reports" not in dict(scheduler.jobs(services))
    finally:
        services.close()



def test_a_report_words_its_tables_as_its_charts_and_the_dashboard_do() -> None:
    """未分类 in the category table as in its chart (not —), 工单 as a section once with its
    figures table under 工单总体, and a unit's transfers headed 转办 as on /supervisor."""
    tickets = [["received", "int"], ["answered_at_intake", "int"]]
    categories = [["category", "text"], ["received", "int"], ["resolution_rate", "rate"]]
    units = [["unit", "text"], ["received", "int"], ["accepted", "int"]]
    data = {"kind": "day", "since": "2026-12-06", "until": "2026-12-06", "generated_at": utcnow().isoformat(),
            "sections": [{"key": "tickets", "figures": {},
                          "tables": [{"name": "tickets", "columns": tickets, "rows": [[12, 3]]},
                                     {"name": "categories", "columns": categories,
                                      "rows": [["城乡建设 / 路灯", 7, 0.5], ["", 5, None]]}],
                          "charts": [{"kind": "bars", "name": "categories",
                                      "items": [["城乡建设 / 路灯", 7], ["", 5]]}]},
                         {"key": "units", "tables": [{"name": "units", "columns": units, "unit_ids": [3],
                                                      "rows": [["住建局", 9, 8]]}]}]}
    page = report_files.render_html(data)
    table = page[page.index('id="table-categories"'):]
    table = table[:table.index("</table>")]
    assert "<td>未分类</td>" in table and "<td>—</td>" not in table
    chart = page[page.index('<section id="section-tickets">'):page.index('id="table-tickets"')]
    assert "未分类" in chart
    assert page.count(">工单<") == 1 and "<h3>工单总体</h3>" in page
    unit_table = page[page.index('id="table-units"'):]
    assert "<th class=\"num\">转办</th>" in unit_table and ">受理<" not in unit_table
    rows = report_files.render_csv(data).splitlines()
    assert "未分类,5," in rows and "承办单位,转办,签收" in rows
