"""考核: each unit's figures of a month, a weighted score, and a tier instead of a rank.

The month's figures are those of docs/DESIGN.md for the transfers of tickets received in the
month (reports.unit_figures, from the running totals), plus the response rate 响应率: transfers
accepted within `response_hours` of being transferred / transfers. Both rates leave out what
has not failed yet (a month in progress): 办结率 the transfers still open before the ticket's
deadline, 响应率 those waiting to be accepted within the response time. Each rate has a Wilson
interval (95%); the score is the weighted mean of the rates a unit has (weights renormalised
over them), its interval the same weighted mean of the rates' interval ends (as if the rates
rose and fell together: wider than the exact interval, never narrower).

Tiers, by the score: A 好 >= cuts[0], B 较好 >= cuts[1], C 一般 >= cuts[2], D 差 below. A unit
whose score interval is wider than `max_interval` gets no tier (too few tickets to say), rather
than a lucky one. Within a tier units are listed by name: tiers, not ranks (66号).

assessment(session, month) returns plain data; the page, the API and the reports show it.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from dispatch import disputes, reports
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.models import Ticket, Transfer, Unit
from dispatch.reports import Period
from dispatch.states import UNIT_STATES
from dispatch.vocabulary import TIER_LABELS_ZH, Tier, TransferOutcome

RATES = ("response", "resolution", "satisfaction", "on_time")
Z_95 = 1.959964
MIN_MONTH, MAX_MONTH = dt.date(2000, 1, 1), dt.date(2099, 12, 1)


@dataclass(frozen=True)
class AssessmentRules:
    """HOTLINE_RESPONSE_HOURS and HOTLINE_ASSESSMENT_* (these defaults are theirs)."""

    response_hours: float = 24.0
    # Beijing's 接诉即办 weighs 响应率 10%, 解决率 45%, 满意率 45%; on-time rate is ours.
    weights: tuple[tuple[str, float], ...] = (("response", 0.1), ("resolution", 0.4), ("satisfaction", 0.4),
                                              ("on_time", 0.1))
    tier_cuts: tuple[float, float, float] = (0.90, 0.80, 0.70)
    max_interval: float = 0.20


def parse_month(raw: str) -> dt.date:
    """'2026-11' -> the first day of that month, or InvalidInput in Chinese."""
    text = raw.strip()
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) != 7:
            raise ValueError(text)
        first = dt.date(year, month, 1)
    except ValueError:
        raise InvalidInput("month", Reason.BAD_MONTH, value=raw[:40]) from None
    if not MIN_MONTH <= first <= MAX_MONTH:
        raise InvalidInput("month", Reason.DATE_OUT_OF_RANGE, low="2000-01", high="2099-12")
    return first


def month_period(first: dt.date) -> Period:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, following - dt.timedelta(days=1))


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / n (wide for few tickets, never outside 0..1)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _responded_within(dialect: str, seconds: float) -> Any:
    """responded_at - transferred_at <= seconds, in each database's date arithmetic."""
    if dialect == "postgresql":
        gap = func.extract("epoch", Transfer.responded_at - Transfer.transferred_at)
    else:  # SQLite keeps the times as ISO text
        gap = (func.julianday(Transfer.responded_at) - func.julianday(Transfer.transferred_at)) * 86400.0
    return gap <= seconds


def response_counts(session: Session, period: Period, response_hours: float) -> dict[str, tuple[int, int]]:
    """Per unit code: (transfers, accepted within the response time) of tickets received in the period."""
    within = and_(Transfer.outcome == TransferOutcome.ACCEPTED.value,
                  _responded_within(session.get_bind().dialect.name, response_hours * 3600))
    rows = session.execute(
        select(Unit.code, func.count(Transfer.id), func.coalesce(func.sum(case((within, 1), else_=0)), 0))
        .join(Unit, Unit.id == Transfer.unit_id)
        .where(Transfer.received_day >= period.since, Transfer.received_day <= period.until)
        .group_by(Unit.code))
    return {code: (int(n), int(k)) for code, n, k in rows}


def not_yet_due(session: Session, period: Period, now: dt.datetime,
                response_hours: float) -> dict[str, tuple[int, int]]:
    """Per unit code: (transfers still open and not yet past the ticket's deadline, transfers
    still waiting to be accepted and within the response time) of tickets received in the
    period. Neither has failed yet: a month in progress is judged on what has fallen due."""
    open_ = and_(Transfer.resolved_at.is_(None),
                 Transfer.outcome.in_([TransferOutcome.PENDING.value, TransferOutcome.ACCEPTED.value]),
                 Ticket.state.in_([s.value for s in UNIT_STATES]))
    before_deadline = and_(open_, Ticket.deadline.is_not(None), Ticket.deadline > now)
    waiting = and_(Transfer.outcome == TransferOutcome.PENDING.value,
                   Transfer.transferred_at > now - dt.timedelta(hours=response_hours))
    rows = session.execute(
        select(Unit.code, func.coalesce(func.sum(case((before_deadline, 1), else_=0)), 0),
               func.coalesce(func.sum(case((waiting, 1), else_=0)), 0))
        .join(Unit, Unit.id == Transfer.unit_id).join(Ticket, Ticket.id == Transfer.ticket_id)
        .where(Transfer.received_day >= period.since, Transfer.received_day <= period.until,
               or_(before_deadline, waiting))
        .group_by(Unit.code))
    return {code: (int(due), int(wait)) for code, due, wait in rows}


def _rate(successes: int, n: int) -> dict[str, Any]:
    interval = wilson(successes, n)
    return {"count": successes, "of": n, "rate": None if n == 0 else successes / n,
            "interval": None if interval is None else [round(interval[0], 4), round(interval[1], 4)]}


def score(rates: dict[str, dict[str, Any]], rules: AssessmentRules) -> tuple[float | None, list[float] | None]:
    """The weighted mean of the rates the unit has, and its interval."""
    total = value = low = high = 0.0
    for name, weight in rules.weights:
        figure = rates[name]
        if figure["rate"] is None or weight <= 0:
            continue
        total += weight
        value += weight * figure["rate"]
        low += weight * figure["interval"][0]
        high += weight * figure["interval"][1]
    if total == 0:
        return None, None
    return value / total, [round(low / total, 4), round(high / total, 4)]


def tier_of(value: float | None, interval: list[float] | None, rules: AssessmentRules) -> Tier | None:
    if value is None or interval is None or interval[1] - interval[0] > rules.max_interval:
        return None
    for tier, cut in zip((Tier.A, Tier.B, Tier.C), rules.tier_cuts):
        if value >= cut:
            return tier
    return Tier.D


def assessment(session: Session, month: dt.date | str, *, rules: AssessmentRules = AssessmentRules(),
               now: dt.datetime | None = None) -> dict[str, Any]:
    """Every unit with transfers or disputes in the month: its figures, score and tier."""
    first = parse_month(month) if isinstance(month, str) else month.replace(day=1)
    period = month_period(first)
    now = now or utcnow()
    figures = {f.unit_code: f for f in reports.unit_figures(session, period, now=now)}
    responses = response_counts(session, period, rules.response_hours)
    pending = not_yet_due(session, period, now, rules.response_hours)
    raised = {d.unit_code: d for d in disputes.figures(session, period.start, period.end)}
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(set(figures) | set(raised))))}
    rows = []
    for code, unit in units.items():
        f = figures.get(code)
        transfers, in_time = responses.get(code, (0, 0))
        before_deadline, waiting = pending.get(code, (0, 0))
        rates = {"response": _rate(in_time, transfers - waiting),
                 "resolution": _rate(f.resolved, f.received - before_deadline) if f else _rate(0, 0),
                 "satisfaction": _rate(f.satisfied_or_partly, f.rated) if f else _rate(0, 0),
                 "on_time": _rate(f.resolved_on_time, f.resolved) if f else _rate(0, 0)}
        value, interval = score(rates, rules)
        tier = tier_of(value, interval, rules)
        d = raised.get(code)
        rows.append({
            "unit_code": code, "unit_name": unit.name, "unit_kind": unit.kind,
            "transfers": f.received if f else 0, "not_yet_due": before_deadline, **rates,
            "returned": f.returned if f else 0, "overdue": f.overdue if f else 0,
            "disputes": d.raised if d else 0, "disputes_upheld": d.upheld if d else 0,
            "score": None if value is None else round(value, 4), "score_interval": interval,
            "tier": None if tier is None else tier.value, "tier_label": None if tier is None else TIER_LABELS_ZH[tier],
        })
    order = {t.value: i for i, t in enumerate(Tier)}
    rows.sort(key=lambda r: (order.get(r["tier"], len(order)), r["unit_name"]))
    counts = {t.value: sum(1 for r in rows if r["tier"] == t.value) for t in Tier}
    return {"month": first.strftime("%Y-%m"),
            "period": {"since": period.since.isoformat(), "until": period.until.isoformat()},
            "rules": {"response_hours": rules.response_hours, "weights": dict(rules.weights),
                      "tier_cuts": list(rules.tier_cuts), "max_interval": rules.max_interval},
            "tiers": {**counts, "none": sum(1 for r in rows if r["tier"] is None)},
            "units": rows}
