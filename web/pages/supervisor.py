"""The supervisor's dashboard: figures by period, unit, category and channel with charts;
returned tickets waiting for re-dispatch; overdue and near-due tickets to chase (督办);
extension requests to decide; text messages that failed; every table also as CSV."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Any, Callable
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import actions as dispatch_actions
from dispatch import (chasing_lists, co_handling, disputes, kb, lifecycle, outbox, progress, queries, reports,
                      routing_feedback, staff, staff_activity)
from dispatch.actors import SUPERVISING_ROLES
from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, Reason
from dispatch.models import ExtensionRequest
from dispatch.numbers import whole_number
from dispatch.paging import Page
from dispatch.phone import national_form
from dispatch.reports import Period
from web.api_auth import session_or_bearer
from web.auth import StaffIdentity, client_key, staff_only
from web.errors import status_of
from web.messages import describe
from web.pages import charts
from web.pages.labels import (AGENT_NAMED, ALL_CALLS, CATEGORY_CHART_TITLE, CHANNEL_CHART_TITLE, DASHBOARD_TABLES_ZH,
                              DASHBOARD_COUNT_WORDS_ZH, DASHBOARD_TICKET_FIGURES_ZH, ESCALATED_TIMES_ZH, ESCALATION_ANSWERED_ZH, NONE_YET, UNANSWERED_CALLS, UNCATEGORISED, label,
                              local_time, percent, seconds, short_time, time_left)
from web.pages.periods import PRESETS, parse_period, today_local
from web.pages.site import Site
from web.pages.spreadsheet import csv_response

# Column kinds: how a value is shown on the page and written to CSV.
INT, RATE, TEXT, TIME, SECONDS = "int", "rate", "text", "time", "seconds"
FIGURE = "figure"   # a figure already worded (12, 71.4%): shown as is, aligned as a number
# Where the request's own parts go in the tables rendered once: NUL, which no stored text
# holds (web/inputs.py refuses it, PostgreSQL cannot store it).
_CSRF_SLOT = "\x00csrf\x00"
_SMS_SLOT = "\x00sms\x00"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]          # (heading, kind)
    rows: list[list[Any]]
    links: list[str | None] | None = None   # ticket number per row, for the lists
    counted: bool = True                    # rows are things (tickets, units), worth a count badge
    page: Page[Any] | None = None           # a list shown a page at a time: which, of how many
    page_param: str | None = None           # the query parameter that turns its pages
    # Ticket numbers escalated within lifecycle.CONFIRM_AGAIN_WITHIN: their 督办 asks to confirm.
    recent: frozenset[str] = frozenset()
    summed: int | None = None               # the column whose sum the badge counts (tickets per group)

    @property
    def count(self) -> int:
        if self.summed is not None:
            return sum(int(row[self.summed] or 0) for row in self.rows)
        return self.page.total if self.page is not None else len(self.rows)

    @property
    def count_word(self) -> str:
        """What the count counts (件, 个单位…), said after the badge."""
        return DASHBOARD_COUNT_WORDS_ZH.get(self.name, "")

    @staticmethod
    def align(kind: str) -> str:
        """Figures line up on the right, text reads from the left."""
        return "num" if kind in (INT, RATE, SECONDS, FIGURE) else ""

    def shown(self, value: Any, kind: str) -> str:
        if value is None:
            return "—"
        if kind == RATE:
            return percent(value)
        if kind == TIME:
            return local_time(value)
        if kind == SECONDS:
            return seconds(value)
        return str(value)

    def cells(self) -> list[list[tuple[str, str]]]:
        """Each row's cells as (class, text) for the page: worded here in one pass, since a
        call per cell from the template (align, shown) was most of the dashboard's render."""
        styles = [f"k-{kind} num" if self.align(kind) else f"k-{kind}" for _, kind in self.columns]
        kinds = [kind for _, kind in self.columns]
        return [[(style, self.shown(value, kind)) for value, style, kind in zip(row, styles, kinds)]
                for row in self.rows]

    def rows_html(self, actions: Callable[[str | None, int], str] | None = None) -> Markup:
        """The table's body rows as HTML, escaped here: a template loop over every cell of
        every table (some 1,700 on a city's dashboard) was most of the time its render took.
        `actions` (a template macro) fills a last cell per row from the row's link and index."""
        kinds = [kind for _, kind in self.columns]
        opening = [f'<td class="k-{kind} num">' if self.align(kind) else f'<td class="k-{kind}">' for kind in kinds]
        shown = self.shown
        out = []
        for i, row in enumerate(self.rows):
            cells = [start + escape(shown(value, kind)) + "</td>" for value, start, kind in zip(row, opening, kinds)]
            if self.links and cells:
                text = escape(shown(row[0], kinds[0]))
                cells[0] = f'{opening[0]}<a href="/tickets/{text}">{text}</a></td>'
            if actions is not None:
                cells.append(f'<td class="actions">{actions(self.links[i] if self.links else None, i)}</td>')
            out.append("<tr>" + "".join(cells) + "</tr>")
        if not out:
            span = len(self.columns) + (actions is not None)
            out.append(f'<tr><td colspan="{span}" class="empty">{NONE_YET}</td></tr>')
        return Markup("\n".join(out))

    def csv_value(self, value: Any, kind: str) -> Any:
        if value is None:
            return ""
        if kind == RATE:
            return f"{value * 100:.1f}"
        if kind == TIME:
            return local_time(value)
        if kind == SECONDS:
            return f"{value:.1f}"
        return value


def _table(name: str, kinds: tuple[str, ...], rows: list[list[Any]], *, words: dict[str, Any] | None = None,
           **more: Any) -> Table:
    """A table of the dashboard with its title and headings (labels.DASHBOARD_TABLES_ZH), a kind
    per heading; `words` fills the headings' placeholders."""
    title, headings = DASHBOARD_TABLES_ZH[name]
    columns = [(heading.format(**words) if words else heading, kind)
               for heading, kind in zip(headings, kinds, strict=True)]
    return Table(name, title, columns, rows, **more)


FIGURE_KINDS = (INT, INT, RATE, RATE, RATE, RATE, RATE, INT)


def _figure_row(f: dict[str, Any]) -> list[Any]:
    return [f["received"], f["answered"], f["transfer_rate"], f["return_rate"], f["resolution_rate"],
            f["on_time_rate"], f["satisfaction_rate"], f["overdue"]]


def _escalated(escalated: lifecycle.Escalations | None) -> str | None:
    if escalated is None:
        return None
    said = ESCALATED_TIMES_ZH.format(count=escalated.count, at=short_time(escalated.last_at))
    if escalated.answered_at is not None:
        said += ESCALATION_ANSWERED_ZH.format(at=short_time(escalated.answered_at))
    return said


def _ticket_rows(tickets: list[Any], now: dt.datetime, names: dict[int, str],
                 escalated: dict[int, lifecycle.Escalations]) -> list[list[Any]]:
    return [[t.number, t.title, label(t.state), names.get(t.unit_id, "—") if t.unit_id else "—", t.deadline,
             time_left(t.deadline, now), _escalated(escalated.get(t.id))] for t in tickets]


@dataclass(frozen=True)
class Dashboard:
    tables: dict[str, Table]
    extension_ids: list[int]          # per row of the extensions table
    versions: dict[str, int]          # ticket number -> version shown, for 督办 forms
    recent: frozenset[str]            # ticket numbers just escalated: their 督办 asks to confirm
    daily: list[queries.DayFigures]   # the daily table's figures, for its charts


@dataclass(frozen=True)
class Figures:
    """The period's figures tables (everything but the lists to act on): the same for every
    supervisor asking the same period, so the figures cache keeps them, and their charts."""
    tables: list[Table]
    daily: list[queries.DayFigures]
    charts: dict[str, Markup]


def figure_tables(session: Session, period: Period, calls_policy: reports.CallPolicy = reports.CallPolicy(), *,
                  now: dt.datetime | None = None) -> Figures:
    now = now or utcnow()
    summary = reports.summary(session, period, now=now, calls=calls_policy)
    daily = queries.daily_series(session, period)
    t = summary["tickets"]
    tables = [
        # Its rows are figures, not tickets: no count badge (受理 is the number of tickets).
        _table("tickets", (TEXT, FIGURE), counted=False, rows=[
            [word, percent(t[key]) if key.endswith("_rate") else t[key]]
            for key, word in DASHBOARD_TICKET_FIGURES_ZH.items()]),
        _table("follow_up", (INT, INT, RATE, INT, INT, INT, INT, RATE),
               [[t["resolved"], t["followed_up"], t["follow_up_rate"], t["rated"], t["rated_phone"], t["rated_web"],
                 t["rated_sms"], t["satisfaction_rate"]]], counted=False),
        _table("handovers", (TEXT, INT), [[label(service), n] for service, n in summary["handovers"].items()],
               summed=1),
        _table("disputes", (TEXT, INT, INT, INT, INT),
               [[d["unit_name"], d["raised"], d["upheld"], d["refused"], d["raised"] - d["upheld"] - d["refused"]]
                for d in summary["disputes"]], summed=1),
        _table("units", (TEXT, INT, INT, INT, INT, RATE, RATE, RATE, RATE, RATE, INT),
               [[u["unit_name"], u["received"], u["accepted"], u["returned"], u["resolved"],
                 u["successful_transfer_rate"], u["return_rate"], u["resolution_rate"], u["on_time_rate"],
                 u["satisfaction_rate"], u["overdue"]] for u in summary["units"]]),
        _table("categories", (TEXT, *FIGURE_KINDS),
               [[k or UNCATEGORISED, *_figure_row(f)] for k, f in sorted(summary["categories"].items(),
                                                                        key=lambda kv: -kv[1]["received"])]),
        _table("routing_feedback", (TEXT, TEXT, INT, RATE, RATE, RATE, RATE),
               [[f.week.isoformat(), f.category, f.proposals, f.acceptance_rate, f.automatic_share,
                 f.corrected_share, f.returned_share] for f in routing_feedback.figures(session, period)],
               counted=False),   # a row per week and category: a count of them says nothing
        _table("channels", (TEXT, INT, INT, RATE),
               [[label(c.channel), c.received, c.resolved, c.resolution_rate]
                for c in queries.figures_by_channel(session, period)], counted=False),
        _table("daily", (TEXT, INT, INT, RATE),
               [[d.day.isoformat(), d.received, d.resolved, d.resolution_rate] for d in daily]),
    ]
    calls = summary["calls"]

    def call_row(c: dict[str, Any]) -> list[Any]:
        return [c["offered"], c["answered"], c["abandoned"], c["answer_rate"], c["abandonment_rate"],
                c["asa_seconds"], c["answer_rate_15s"], c["service_level"], c["aht_seconds"]]

    operators = staff.names_by_extension(session)
    tables.append(_table("calls", (TEXT, INT, INT, INT, RATE, RATE, SECONDS, RATE, RATE, SECONDS),
                         [[ALL_CALLS, *call_row(calls)]] +
                         [[_agent(agent, operators), *call_row(c)] for agent, c in sorted(calls["agents"].items())],
                         counted=False, words={"seconds": calls_policy.service_level_seconds}))
    by_name = {table.name: table for table in tables}
    categories = [(str(row[0]), int(row[1])) for row in by_name["categories"].rows][:12]
    channels = [(str(row[0]), int(row[1])) for row in by_name["channels"].rows]
    charts_ = {"bars": charts.daily_bars(daily), "rates": charts.rate_line(daily),
               "category_chart": charts.hbars(categories, title=CATEGORY_CHART_TITLE),
               "channel_chart": charts.hbars(channels, title=CHANNEL_CHART_TITLE)}
    return Figures(tables, daily, charts_)


def _agent(interface: str, operators: dict[str, str]) -> str:
    """An agent's row: the operator whose account has the phone's extension, with the phone;
    the PBX's interface (PJSIP/7001) when no account has it."""
    if not interface:
        return UNANSWERED_CALLS
    name = operators.get(staff.extension_of(interface))
    return AGENT_NAMED.format(name=name, interface=interface) if name else interface


@dataclass(frozen=True)
class Lists:
    """The chasing lists at the pages asked for and the disputes waiting: the same for every
    supervisor at the same marker and minute (their 剩余 counts minutes), so cached too."""
    tables: list[Table]
    extension_ids: list[int]          # per row of the extensions table
    versions: dict[str, int]          # ticket number -> version shown, for 督办 forms
    recent: frozenset[str]            # ticket numbers just escalated: their 督办 asks to confirm


def list_tables(session: Session, *, names: dict[int, str], pages: dict[str, int] | None = None,
                per_page: int = chasing_lists.PER_PAGE, now: dt.datetime | None = None) -> Lists:
    now = now or utcnow()
    pages = pages or {}
    lengths = chasing_lists.lengths(session, now=now)
    listed = {name: build(session, now, names, pages.get(name, 1), per_page, getattr(lengths, name))
              for name, build in LISTS.items()}
    waiting = disputes.pending(session)
    asking = co_handling.pending_override_requests(session)  # each also told to every supervisor (staff_notices)
    tables = [*listed.values(),
              _table("disputes_pending", (TEXT, TEXT, TEXT, TEXT, TIME),
                     [[ticket.number, ticket.title, unit.name, dispute.reason, dispute.raised_at]
                      for dispute, ticket, unit in waiting], links=[ticket.number for _, ticket, _ in waiting]),
              _table("override_requests", (TEXT, TEXT, TEXT, TEXT, TIME),
                     [[ticket.number, ticket.title, unit.name, event.note, event.at] for event, ticket, unit in asking],
                     links=[ticket.number for _, ticket, _ in asking]),
              _answered_table(session, names, now)]
    extension_ids = [e.request.id for e in _items(listed["extensions"])]
    versions = {x.number: x.version for x in [*_items(listed["overdue"]), *_items(listed["near_due"])]}
    return Lists(tables, extension_ids, versions, listed["overdue"].recent | listed["near_due"].recent)


def _answered_table(session: Session, names: dict[int, str], now: dt.datetime) -> Table:
    """督办已反馈: supervisors' 督办 a unit answered with a progress note lately, each once."""
    answered = progress.answered_escalations(session, now)
    return _table("escalations_answered", (TEXT, TEXT, TEXT, TEXT, TEXT, TIME, TEXT, TIME),
                  [[a.number, a.title, names.get(a.unit_id, "") if a.unit_id else "", a.escalated_by, a.escalation,
                    a.escalated_at, a.answer, a.answered_at] for a in answered],
                  links=[a.number for a in answered])


def build_tables(session: Session, period: Period, calls_policy: reports.CallPolicy = reports.CallPolicy(), *,
                 names: dict[int, str], pages: dict[str, int] | None = None,
                 per_page: int = chasing_lists.PER_PAGE) -> Dashboard:
    """Every table of the dashboard; the chasing lists (LISTS) at the page `pages` names.
    `names`: every unit's name by id (the services' unit cache)."""
    now = utcnow()
    return dashboard_of(figure_tables(session, period, calls_policy, now=now),
                        list_tables(session, names=names, pages=pages, per_page=per_page, now=now),
                        _failed_sms_table(session))


def dashboard_of(figures: Figures, lists: Lists, failed_sms: Table) -> Dashboard:
    tables = [*figures.tables, *lists.tables, failed_sms]
    return Dashboard({table.name: table for table in tables}, lists.extension_ids, lists.versions, lists.recent,
                     figures.daily)


def _items(table: Table) -> list[Any]:
    return table.page.items if table.page is not None else []


TICKET_KINDS = (TEXT, TEXT, TEXT, TEXT, TIME, TEXT, TEXT)


def _ticket_list(session: Session, name: str, found: Page[Any], now: dt.datetime, names: dict[int, str]) -> Table:
    """A list to chase from, each ticket with its 督办 so far (one statement for the page)."""
    escalated = lifecycle.escalations(session, [t.id for t in found.items])
    recent = frozenset(t.number for t in found.items if lifecycle.recently_escalated(escalated.get(t.id), now))
    return _table(name, TICKET_KINDS, _ticket_rows(found.items, now, names, escalated),
                  links=[x.number for x in found.items], page=found, page_param=f"{name}_page", recent=recent)


def _overdue_table(session: Session, now: dt.datetime, names: dict[int, str], page: int, per_page: int,
                   total: int | None) -> Table:
    return _ticket_list(session, "overdue", chasing_lists.overdue_page(session, page, now=now, per_page=per_page,
                                                                       total=total), now, names)


def _near_due_table(session: Session, now: dt.datetime, names: dict[int, str], page: int, per_page: int,
                    total: int | None) -> Table:
    return _ticket_list(session, "near_due", chasing_lists.near_due_page(session, page, now=now, per_page=per_page,
                                                                         total=total), now, names)


def _extensions_table(session: Session, now: dt.datetime, names: dict[int, str], page: int, per_page: int,
                      total: int | None) -> Table:
    found = chasing_lists.extensions_page(session, page, per_page=per_page, total=total)
    return _table("extensions", (TEXT, TEXT, INT, TEXT, TIME, TIME),
                  [[e.ticket.number, e.unit_name, e.request.working_days, e.request.reason, e.request.requested_at,
                    e.ticket.deadline] for e in found.items], links=[e.ticket.number for e in found.items],
                  page=found, page_param="extensions_page")


def _returned_table(session: Session, now: dt.datetime, names: dict[int, str], page: int, per_page: int,
                    total: int | None) -> Table:
    found = chasing_lists.returned_page(session, page, per_page=per_page, total=total)
    return _table("returned", (TEXT, TEXT, TEXT, TEXT, TIME),
                  [[r.ticket.number, r.ticket.title, r.unit_name or "—", r.reason or "", r.returned_at]
                   for r in found.items], links=[r.ticket.number for r in found.items], page=found,
                  page_param="returned_page")


# The lists shown a page at a time (each with its length from chasing_lists.lengths); a CSV
# of one holds up to EXPORT_ROWS of it.
LISTS = {"returned": _returned_table, "overdue": _overdue_table, "near_due": _near_due_table,
         "extensions": _extensions_table}
EXPORT_ROWS = 10_000


def _failed_sms_table(session: Session) -> Table:
    """Texts given up on, or that Twilio reports never reached the handset."""
    failed = outbox.failed_messages(session)
    numbers = queries.ticket_numbers(session, {m.ticket_id for m in failed if m.ticket_id})
    return _table("sms_failed", (TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TIME),
                  [[numbers.get(m.ticket_id, "—") if m.ticket_id else "—", national_form(m.recipient), m.kind,
                    m.status, m.delivery_status or "—", m.error_code or "—", m.last_error or "",
                    m.updated_at or m.created_at] for m in failed])


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


def _pages(request: Request) -> dict[str, int]:
    """Which page of each chasing list the query asks for (`overdue_page=2`); 1 by default."""
    pages = {}
    for name in LISTS:
        raw = request.query_params.get(f"{name}_page", "")
        pages[name] = whole_number(raw, high=999_999) or 1
    return pages


def page_href(query: str, param: str, page: int, anchor: str) -> str:
    """The dashboard as it is, with one list turned to `page`."""
    params = [(k, v) for k, v in parse_qsl(query) if k not in (param, "done")] + [(param, str(page))]
    return f"/supervisor?{urlencode(params)}#table-{anchor}"


def _dashboard_reads(request: Request, user: StaffIdentity,
                     session: Session) -> tuple[tuple[int, int], Table, int]:
    """What the dashboard reads every time (no ticket event marks a failed text or a stale
    article) and the change marker its figures and lists are cached under. In the session
    that checks the staff session (staff_only's `reads`)."""
    return (queries.figures_marker(session), _failed_sms_table(session),
            kb.stale_count(session, today_local()))


async def dashboard(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    site = _site(request)
    today = today_local()
    period = parse_period(request, today)
    pages = _pages(request)
    services, user = site.services, request.state.user
    policy = services.call_policy()
    # Reads only: no BEGIN and COMMIT on PostgreSQL (services.read). The period's figures
    # and the lists to act on come from the process's cache at the marker read here (web/
    # pages/figures_cache.py): the same for every supervisor until a ticket changes or the
    # minute turns.
    changes, failed_sms, kb_stale = request.state.reads or await services.read(
        lambda s: _dashboard_reads(request, user, s))
    query = request.url.query

    async def tables_html(_now: dt.datetime) -> str:
        """Every table and chart but the failed texts, rendered once per marker: some 1,700
        cells and a form per row to act on, about a sixth of a cached request's CPU."""
        figures = await site.figures.get(("dashboard", period, policy), changes, lambda now: services.read(
            lambda session: figure_tables(session, period, policy, now=now)))
        lists = await site.figures.get(("lists", tuple(sorted(pages.items()))), changes, lambda now: services.read(
            lambda session: list_tables(session, names=services.units.names(session), pages=pages, now=now)))
        board = dashboard_of(figures, lists, failed_sms)
        return site.templates.get_template("_supervisor_tables.html").render({
            "tables": board.tables, "extension_ids": board.extension_ids, "versions": board.versions,
            "recent": board.recent,
            "query": query, "page_href": page_href, "csrf_token": _CSRF_SLOT, "sms_failed_html": Markup(_SMS_SLOT),
            **figures.charts})

    html = await site.figures.get(("dashboard_html", period, policy, query), changes, tables_html)
    failed = site.templates.get_template("_supervisor_table.html").render({"table": failed_sms, "query": query})
    html = html.replace(_CSRF_SLOT, escape(site.auth.csrf_token(request))).replace(_SMS_SLOT, failed)
    return site.render(request, "supervisor.html", {
        "kb_stale": kb_stale, "period": period, "presets": PRESETS, "error": error,
        "done": request.query_params.get("done"), "tables_html": Markup(html)}, status)


async def export(request: Request) -> Response:
    site = _site(request)
    name = request.path_params["table"]
    period = parse_period(request, today_local())
    actor, client = request.state.user.actor, client_key(request)

    def read(session: Session) -> Table | None:
        names = site.services.units.names(session)
        if name in LISTS:   # the whole list (up to EXPORT_ROWS), and nothing else of the dashboard
            table: Table | None = LISTS[name](session, utcnow(), names, 1, EXPORT_ROWS, None)
        else:
            table = build_tables(session, period, site.services.call_policy(), names=names).tables.get(name)
        if table is not None:
            staff_activity.record(session, staff_activity.ActivityKind.EXPORT, actor, target=f"{name}.csv",
                                  address=client, detail={"since": period.since.isoformat(),
                                                          "until": period.until.isoformat(), "rows": len(table.rows)})
        return table

    table = await site.services.run(read)
    if table is None:
        raise NotFound(Reason.TABLE_NOT_FOUND, name=name)
    return csv_response(f"{name}-{period.since.isoformat()}-{period.until.isoformat()}.csv",
                        [heading + ("(%)" if kind == RATE else "") for heading, kind in table.columns],
                        ([table.csv_value(v, kind) for v, (_, kind) in zip(row, table.columns)]
                         for row in table.rows))


async def decide(request: Request) -> Response:
    site, user, form = _site(request), request.state.user, request.state.form
    request_id = int(request.path_params["request_id"])
    approve = form.get("decision") == "approve"
    note = str(form.get("note") or "").strip() or None

    def work(session: Session) -> None:
        extension = session.get(ExtensionRequest, request_id)
        if extension is None:
            raise NotFound(Reason.EXTENSION_NOT_FOUND, request_id=request_id)
        dispatch_actions.decide_extension(session, user.actor, extension, approve=approve,
                                          policy=site.services.rules.policy, note=note)

    try:
        await site.services.run(work)
    except (Conflict, InvalidInput) as exc:
        return await dashboard(request, error=describe(exc), status=status_of(exc))
    site.changed()
    # Back to the page of the list the decision was made on, as the browser says it came from
    # (the list is rendered once for every viewer, so the form cannot carry it; a list now
    # shorter shows its last page).
    referer = urlsplit(request.headers.get("referer", ""))
    page = (parse_qs(referer.query).get("extensions_page") or ["1"])[0] if referer.path == "/supervisor" else "1"
    at = f"extensions_page={page}&" if page.isascii() and page.isdigit() and 1 < int(page) <= 100_000 else ""
    return RedirectResponse(f"/supervisor?{at}done=" + ("approved" if approve else "refused") + "#table-extensions",
                            status_code=303)


routes = [
    Route("/supervisor", staff_only(dashboard, SUPERVISING_ROLES, reads=_dashboard_reads), methods=["GET"]),
    # A staff API token reads it too, with the same roles (web/api_auth.session_or_bearer).
    Route("/supervisor/export/{table}.csv", session_or_bearer(export, SUPERVISING_ROLES), methods=["GET"]),
    Route("/supervisor/extensions/{request_id:id}", staff_only(decide, SUPERVISING_ROLES), methods=["POST"]),
]
