"""Daily, weekly and monthly reports (日报 / 周报 / 月报): which periods are due, their
figures as a list of sections, each unit's own part, and keeping them (table
periodic_reports, unique per kind and first day, so making one twice keeps one).

A section is a function of a ReportContext returning plain data (JSON): a key, figures,
tables and charts. Words for people are the web's (web/pages/labels.py REPORT_ZH); here
only keys. A table whose rows carry `unit_ids` is also cut into each unit's part; a table
without them is the city's alone.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from dispatch import assessment, hotspots, queries, reports
from dispatch.actors import by_system
from dispatch.assessment import AssessmentRules
from dispatch.hotspots import HotspotRules
from dispatch.clock import local_date
from dispatch.deadlines import WorkCalendar
from dispatch.masking import mask_text
from dispatch.models import PeriodicReport, Ticket, TicketEvent, Unit
from dispatch.reports import CallPolicy, Period
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import Rating

KINDS = ("day", "week", "month")
OVERDUE_LISTED = 50
NOTABLE_LISTED = 20
CATEGORIES_LISTED = 15


@dataclass(frozen=True)
class ReportContext:
    session: Session
    kind: str
    period: Period
    now: dt.datetime
    calls: CallPolicy = field(default_factory=CallPolicy)
    assessment_rules: AssessmentRules = field(default_factory=AssessmentRules)
    hotspot_rules: HotspotRules = field(default_factory=HotspotRules)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @property
    def previous(self) -> Period:
        """The period before, of the same kind (the rates are shown beside it)."""
        if self.kind == "month":
            until = self.period.since - dt.timedelta(days=1)
            return Period(until.replace(day=1), until)
        length = (self.period.until - self.period.since).days + 1
        return Period(self.period.since - dt.timedelta(days=length), self.period.since - dt.timedelta(days=1))


Section = Callable[[ReportContext], dict[str, Any]]


def due_periods(now: dt.datetime) -> list[tuple[str, Period]]:
    """The last complete day, week (Monday to Sunday) and month before `now`, China time."""
    today = local_date(now)
    monday = today - dt.timedelta(days=today.weekday())
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    return [("day", Period(today - dt.timedelta(days=1), today - dt.timedelta(days=1))),
            ("week", Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))),
            ("month", Period(last_month_end.replace(day=1), last_month_end))]


def _table(name: str, columns: list[tuple[str, str]], rows: list[list[Any]],
           unit_ids: list[int | None] | None = None) -> dict[str, Any]:
    """columns: (key, kind) with kind int, rate, text, time or seconds (as the supervisor page)."""
    table: dict[str, Any] = {"name": name, "columns": [list(c) for c in columns], "rows": rows}
    if unit_ids is not None:
        table["unit_ids"] = unit_ids
    return table


def calls_section(ctx: ReportContext) -> dict[str, Any]:
    c = reports.call_figures(ctx.session, ctx.period, ctx.calls).as_dict()
    keys = ("offered", "answered", "abandoned", "short_abandoned", "answer_rate", "answer_rate_15s",
            "service_level", "abandonment_rate", "asa_seconds", "aht_seconds")
    kinds = {"answer_rate": "rate", "answer_rate_15s": "rate", "service_level": "rate", "abandonment_rate": "rate",
             "asa_seconds": "seconds", "aht_seconds": "seconds"}
    return {"key": "calls", "figures": {k: c[k] for k in keys} | {"service_level_seconds": c["service_level_seconds"]},
            "tables": [_table("calls", [(k, kinds.get(k, "int")) for k in keys], [[c[k] for k in keys]])]}


def tickets_section(ctx: ReportContext) -> dict[str, Any]:
    s, period = ctx.session, ctx.period
    t = reports.ticket_figures(s, period, now=ctx.now).as_dict()
    keys = ("received", "answered", "transferred", "resolved", "handed_over", "invalid", "merged", "overdue")
    # "answered" of tickets is 直接办结 (at intake), not a call answered, and "resolved" is by
    # units, apart from it (办结率 counts both): column keys of their own, worded so.
    renamed = {"answered": "answered_at_intake", "resolved": "resolved_by_units"}
    columns = [(renamed.get(k, k), "int") for k in keys]
    days = queries.daily_series(s, period)
    categories = sorted(reports.figures_by_category(s, period, now=ctx.now).items(), key=lambda kv: -kv[1].received)
    channels = queries.figures_by_channel(s, period)
    return {"key": "tickets", "figures": {k: t[k] for k in keys},
            "tables": [
                _table("tickets", columns, [[t[k] for k in keys]]),
                # Channels and days count what is finished now, answered at intake included (the
                # rollups' figure): a column of its own, not the tickets table's 办结 (by units).
                _table("channels", [("channel", "label"), ("received", "int"), ("resolved_or_answered", "int"),
                                    ("resolution_rate", "rate")],
                       [[c.channel, c.received, c.resolved, c.resolution_rate] for c in channels]),
                _table("categories", [("category", "text"), ("received", "int"), ("resolution_rate", "rate"),
                                      ("on_time_rate", "rate"), ("satisfaction_rate", "rate"), ("overdue", "int")],
                       [[k or "", f.received, f.resolution_rate, f.on_time_rate, f.satisfaction_rate, f.overdue]
                        for k, f in categories[:CATEGORIES_LISTED]]),
                _table("daily", [("day", "text"), ("received", "int"), ("resolved_or_answered", "int"),
                                 ("resolution_rate", "rate")],
                       [[d.day.isoformat(), d.received, d.resolved, d.resolution_rate] for d in days])],
            "charts": [{"kind": "daily", "days": [[d.day.isoformat(), d.received, d.resolved] for d in days]},
                       {"kind": "bars", "name": "categories",
                        "items": [[k or "", f.received] for k, f in categories[:12]]}]}


RATES = ("transfer_rate", "successful_transfer_rate", "return_rate", "resolution_rate", "on_time_rate",
         "satisfaction_rate", "follow_up_rate", "direct_answer_rate")


def _rates(figures: reports.TicketFigures) -> dict[str, float | None]:
    values = figures.as_dict()
    values["direct_answer_rate"] = reports.rate(figures.answered, figures.received)
    return {k: values[k] for k in RATES}


def rates_section(ctx: ReportContext) -> dict[str, Any]:
    now_rates = _rates(reports.ticket_figures(ctx.session, ctx.period, now=ctx.now))
    before = _rates(reports.ticket_figures(ctx.session, ctx.previous, now=ctx.now))
    return {"key": "rates", "figures": now_rates,
            "previous": {"since": ctx.previous.since.isoformat(), "until": ctx.previous.until.isoformat()},
            "tables": [_table("rates", [("figure", "label"), ("this_period", "rate"), ("previous_period", "rate")],
                              [[k, now_rates[k], before[k]] for k in RATES])]}


UNIT_COLUMNS = (("unit", "text"), ("received", "int"), ("accepted", "int"), ("returned", "int"), ("resolved", "int"),
                ("successful_transfer_rate", "rate"), ("return_rate", "rate"), ("resolution_rate", "rate"),
                ("on_time_rate", "rate"), ("satisfaction_rate", "rate"), ("overdue", "int"))


def units_section(ctx: ReportContext) -> dict[str, Any]:
    figures = reports.unit_figures(ctx.session, ctx.period, now=ctx.now)
    ids = dict(ctx.session.execute(select(Unit.code, Unit.id)).all())
    rows = [[d["unit_name"], *(d[k] for k, _ in UNIT_COLUMNS[1:])] for d in (f.as_dict() for f in figures)]
    return {"key": "units", "tables": [_table("units", list(UNIT_COLUMNS), rows,
                                              [ids.get(f.unit_code) for f in figures])]}


def _title(ticket: Ticket) -> str:
    return mask_text(ticket.title, [ticket.name] if ticket.name else []) if ticket.confidential else ticket.title


TICKET_COLUMNS = [("number", "text"), ("title", "text"), ("unit", "text"), ("state", "label")]


def overdue_section(ctx: ReportContext) -> dict[str, Any]:
    """Tickets received in the period and still open past their deadline when the report
    was made, the longest overdue first; the count is every one of them."""
    s, period = ctx.session, ctx.period
    condition = (Ticket.state.in_([st.value for st in State if st not in FINISHED_STATES]),
                 Ticket.deadline < ctx.now, Ticket.received_at >= period.start, Ticket.received_at < period.end)
    count = s.scalar(select(func.count(Ticket.id)).where(*condition)) or 0
    tickets = list(s.scalars(select(Ticket).where(*condition).order_by(Ticket.deadline, Ticket.id)
                             .limit(OVERDUE_LISTED)))
    names = _unit_names(s, {t.unit_id for t in tickets})
    days = [round((ctx.now - t.deadline).total_seconds() / 86400, 1) for t in tickets if t.deadline]
    return {"key": "overdue", "figures": {"overdue": int(count)},
            "tables": [_table("overdue", [*TICKET_COLUMNS, ("deadline", "time"), ("days_overdue", "number")],
                              [[t.number, _title(t), names.get(t.unit_id, ""), t.state,
                                t.deadline.isoformat() if t.deadline else None, d] for t, d in zip(tickets, days)],
                              [t.unit_id for t in tickets])]}


def notable_section(ctx: ReportContext) -> dict[str, Any]:
    """重点关注: of the period's tickets, matters many citizens raised (多人反映: duplicates
    merged into one ticket), tickets rated unsatisfied, and tickets returned twice or more; and
    every ticket escalated (督办, by a supervisor or by the scheduler's chasing) in the period,
    whenever it was received, with how many times."""
    s, period = ctx.session, ctx.period
    in_period = (Ticket.received_at >= period.start, Ticket.received_at < period.end)
    raised = s.execute(select(Ticket.merged_into_id, func.count(Ticket.id))
                       .where(*in_period, Ticket.merged_into_id.is_not(None))
                       .group_by(Ticket.merged_into_id)
                       .order_by(func.count(Ticket.id).desc(), Ticket.merged_into_id).limit(NOTABLE_LISTED)).all()
    mains = {t.id: t for t in s.scalars(select(Ticket).where(Ticket.id.in_([r[0] for r in raised])))}
    unsatisfied = list(s.scalars(select(Ticket).where(*in_period, Ticket.rating == Rating.UNSATISFIED.value)
                                 .order_by(Ticket.received_at, Ticket.id).limit(NOTABLE_LISTED)))
    returned = list(s.scalars(select(Ticket).where(*in_period, Ticket.return_count >= 2)
                              .order_by(Ticket.return_count.desc(), Ticket.id).limit(NOTABLE_LISTED)))
    listed: list[tuple[str, Ticket, int]] = [("many_citizens", mains[tid], n + 1) for tid, n in raised if tid in mains]
    listed += [("unsatisfied", t, 1) for t in unsatisfied] + [("returned_often", t, t.return_count) for t in returned]
    escalated = _escalated(s, period)
    listed += escalated["listed"]
    names = _unit_names(s, {t.unit_id for _, t, _ in listed})
    return {"key": "notable", "figures": {"many_citizens": len(raised), "unsatisfied": len(unsatisfied),
                                          "returned_often": len(returned), **escalated["figures"]},
            "tables": [_table("notable", [("why", "label"), *TICKET_COLUMNS, ("count", "int")],
                              [[why, t.number, _title(t), names.get(t.unit_id, ""), t.state, n]
                               for why, t, n in listed],
                              [t.unit_id for _, t, _ in listed])]}


def _escalated(session: Session, period: Period) -> dict[str, Any]:
    """督办 events of the period, counted in SQL: tickets escalated, escalations, and how many
    were the scheduler's (a system actor: dispatch.chasing's "system:chasing") rather than a
    supervisor's; the tickets escalated most often first."""
    in_period = (TicketEvent.action == "escalate", TicketEvent.at >= period.start, TicketEvent.at < period.end)
    system = by_system(TicketEvent.actor)
    tickets, total, by_scheduler = session.execute(
        select(func.count(func.distinct(TicketEvent.ticket_id)), func.count(TicketEvent.id),
               func.count(case((system, TicketEvent.id)))).where(*in_period)).one()
    most = session.execute(select(TicketEvent.ticket_id, func.count(TicketEvent.id))
                           .where(*in_period).group_by(TicketEvent.ticket_id)
                           .order_by(func.count(TicketEvent.id).desc(), TicketEvent.ticket_id)
                           .limit(NOTABLE_LISTED)).all()
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_([r[0] for r in most])))}
    return {"figures": {"escalated": int(tickets or 0), "escalations": int(total or 0),
                        "escalations_by_supervisors": int((total or 0) - (by_scheduler or 0)),
                        "escalations_by_scheduler": int(by_scheduler or 0)},
            "listed": [("escalated", found[tid], int(n)) for tid, n in most if tid in found]}


def _unit_names(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(wanted))).all())


TIER_COLUMNS = [("unit", "text"), ("tier", "text"), ("score", "rate"), ("transferred", "int"), ("not_yet_due", "int"),
                ("resolution_rate", "rate"), ("satisfaction_rate", "rate"), ("on_time_rate", "rate"),
                ("response_rate", "rate"), ("returned", "int"), ("no_tier_reason", "label")]
HOTSPOT_COLUMNS = [("day", "text"), ("place", "text"), ("category", "text"), ("count", "int"),
                   ("expected", "text"), ("hotspot_score", "text")]
HOTSPOTS_LISTED = 20


def tiers_section(ctx: ReportContext) -> dict[str, Any]:
    """Units by tier (考核) of the month the period ends in: a day's or a week's report shows
    how the month stands so far."""
    found = assessment.assessment(ctx.session, ctx.period.until.replace(day=1), rules=ctx.assessment_rules,
                                  now=ctx.now)
    ids = dict(ctx.session.execute(select(Unit.code, Unit.id)).all())
    rows = [[u["unit_name"], u["tier_label"] or "不定档", u["score"], u["transfers"], u["not_yet_due"],
             u["resolution"]["rate"],
             u["satisfaction"]["rate"], u["on_time"]["rate"], u["response"]["rate"], u["returned"], _no_tier_reason(u)]
            for u in found["units"]]
    return {"key": "tiers", "figures": {"month": found["month"], **found["tiers"]},
            "tables": [_table("tiers", TIER_COLUMNS, rows, [ids.get(u["unit_code"]) for u in found["units"]])]}


def _no_tier_reason(unit: dict[str, Any]) -> str | None:
    """Why a unit got no tier (assessment.tier_of), so 不定档 does not read as a verdict: no
    rate had any ticket to count yet, or too few for the score's interval to be narrow enough."""
    if unit["tier"] is not None:
        return None
    return "tier_nothing_due" if unit["score"] is None else "tier_too_few"


def hotspots_section(ctx: ReportContext) -> dict[str, Any]:
    """热点 of the period: the category x township x day cells that rose above their own
    baseline (多人反映 are among the notable cases)."""
    found = hotspots.rising(ctx.session, ctx.period.since, ctx.period.until,
                            rules=ctx.hotspot_rules, calendar=ctx.calendar)[:HOTSPOTS_LISTED]
    rows = [[r["day"], r["place"], " / ".join(t for t in r["topic"] if t) or "未分类", r["count"],
             f"{r['expected']:.2f}", f"{r['score']:.1f}"] for r in found]
    return {"key": "hotspots", "tables": [_table("hotspots", HOTSPOT_COLUMNS, rows)]}


# In the order the report shows them.
SECTIONS: list[Section] = [calls_section, tickets_section, rates_section, units_section, tiers_section,
                           hotspots_section, overdue_section, notable_section]


def build(session: Session, kind: str, period: Period, now: dt.datetime,
          calls: CallPolicy = CallPolicy(), sections: list[Section] | None = None, *,
          assessment_rules: AssessmentRules = AssessmentRules(),
          hotspot_rules: HotspotRules = HotspotRules(), calendar: WorkCalendar | None = None) -> dict[str, Any]:
    ctx = ReportContext(session, kind, period, now, calls, assessment_rules, hotspot_rules, calendar or WorkCalendar())
    return {"kind": kind, "since": period.since.isoformat(), "until": period.until.isoformat(),
            "generated_at": now.isoformat(), "sections": [section(ctx) for section in sections or SECTIONS]}


# Section figures that say what a unit's rows cover rather than count the whole city: kept in
# a unit's part, where the city's counts would read as the unit's own.
UNIT_PART_FIGURES = {"tiers": ("month",)}


def unit_part(data: dict[str, Any], unit_id: int) -> dict[str, Any]:
    """A unit's own part of a report: the rows of the tables cut by unit that are its own."""
    sections = []
    for section in data["sections"]:
        tables = []
        for table in section.get("tables", []):
            if "unit_ids" not in table:
                continue
            rows = [row for row, owner in zip(table["rows"], table["unit_ids"]) if owner == unit_id]
            tables.append({**table, "rows": rows, "unit_ids": [unit_id] * len(rows)})
        if tables:
            figures = section.get("figures", {})
            kept = {k: figures[k] for k in UNIT_PART_FIGURES.get(section["key"], ()) if k in figures}
            sections.append({"key": section["key"], "tables": tables, **({"figures": kept} if kept else {})})
    return {**data, "sections": sections, "unit_id": unit_id}


def exists(session: Session, kind: str, period: Period) -> bool:
    return session.scalar(select(PeriodicReport.id).where(PeriodicReport.kind == kind,
                                                          PeriodicReport.since == period.since)) is not None


def store(session: Session, kind: str, period: Period, data: dict[str, Any], *, html: str, csv: str,
          pdf: bytes | None, pdf_note: str | None, seconds: float, now: dt.datetime) -> PeriodicReport | None:
    """Keep the report; None when another process kept the same one first. No PDF and no
    note: the PDF is still to be printed (waiting_for_pdf)."""
    report = PeriodicReport(kind=kind, since=period.since, until=period.until, generated_at=now, seconds=seconds,
                            data=data, html=html, csv=csv, pdf=pdf, pdf_note=pdf_note)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        return None
    return report


def listed(session: Session, limit: int = 200) -> list[PeriodicReport]:
    """The latest reports first, without their contents (the list page)."""
    return list(session.scalars(
        select(PeriodicReport).options(load_only(PeriodicReport.id, PeriodicReport.kind, PeriodicReport.since,
                                                 PeriodicReport.until, PeriodicReport.generated_at,
                                                 PeriodicReport.seconds, PeriodicReport.pdf_note))
        .order_by(PeriodicReport.since.desc(), PeriodicReport.id.desc()).limit(limit)))


def waiting_for_pdf(session: Session) -> list[int]:
    """Reports kept without a PDF yet, nor a reason for having none: to be printed."""
    return list(session.scalars(select(PeriodicReport.id).where(PeriodicReport.pdf.is_(None),
                                                                PeriodicReport.pdf_note.is_(None))
                                .order_by(PeriodicReport.id)))


def attach_pdf(session: Session, report_id: int, pdf: bytes | None, note: str | None) -> bool:
    """The PDF printed (or why there is none), unless another process was first."""
    report = session.get(PeriodicReport, report_id)
    if report is None or report.pdf is not None or report.pdf_note is not None:
        return False
    report.pdf, report.pdf_note = pdf, note
    session.flush()
    return True


def has_pdf(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(PeriodicReport.id).where(PeriodicReport.id.in_(ids),
                                                               PeriodicReport.pdf.is_not(None))))
