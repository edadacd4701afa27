"""质检: supervisors sample the tickets each operator filed (受理) in a period, score each one
on a fixed checklist, and each operator reads their own results.

The sample (`sample`): for each staff account that filed tickets in the period (China days; the
ticket's `receive` event is theirs), its tickets not yet inspected are put in the order of
sha256("seed:number") and the first N − k are taken, k being how many of the operator's tickets
of the period are already inspected: the same period and seed show the same tickets, a ticket
inspected leaves the sample without changing the others, and once N of an operator's tickets of
the period are inspected their sample is done. Another seed draws another sample.

The inspection (`inspect`): every checklist item scored from 0 to its points (答复规范 only for a
ticket answered at intake, 直接办结; for any other it does not apply and counts its full points,
so every total is out of 100), a comment, the total. One per ticket: a second is refused, also
when two supervisors send one at the same moment (the unique ticket id). Nobody inspects a
ticket they filed themselves. In the staff activity log.

The figure (`figures`): 质检平均分 per operator, over the inspected tickets received in a
month (China days): the sum of their totals / how many were inspected (README, "质检").
Nothing here commits.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import staff, staff_activity
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import api_time, utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.kb_text import shown_reply
from dispatch.models import (Call, QualityInspection, RoutingOutcome, StaffUser, Ticket, TicketEvent, Unit)
from dispatch.numbers import signed_number
from dispatch.paging import Page, page_of
from dispatch.phone import national_form
from dispatch.reports import Period
from dispatch.vocabulary import QUALITY_ITEMS_ZH, QualityItem


@dataclass(frozen=True)
class ChecklistItem:
    item: QualityItem
    points: int
    answered_only: bool = False   # applies only to a ticket answered at intake (直接办结)

    @property
    def key(self) -> str:
        return self.item.value

    @property
    def field(self) -> str:
        """The form's and the error's field: score_service… (web/messages.py names each)."""
        return "score_" + self.key

    @property
    def words(self) -> str:
        return QUALITY_ITEMS_ZH[self.item]


# The checklist, in the order the form shows it; the points add up to FULL_MARKS.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(QualityItem.SERVICE, 20),
    ChecklistItem(QualityItem.INTAKE, 30),
    ChecklistItem(QualityItem.ROUTING, 30),
    ChecklistItem(QualityItem.REPLY, 20, answered_only=True),
)
FULL_MARKS = sum(i.points for i in CHECKLIST)
SAMPLE_PER_OPERATOR = 5     # tickets a week per operator, as a centre's supervisors sample them
DEFAULT_SEED = 1
MAX_SEED = 999_999
MAX_COMMENT_CHARS = 1_000
RECENT_SHOWN = 50


def applies(item: ChecklistItem, answered: bool) -> bool:
    return answered or not item.answered_only


# -- the sample ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallSeen:
    """The call the ticket was filed in (话务), as the PBX recorded it."""

    answered_at: dt.datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    agent: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"answered_at": api_time(self.answered_at) if self.answered_at else None,
                "wait_seconds": self.wait_seconds, "talk_seconds": self.talk_seconds, "agent": self.agent}


@dataclass(frozen=True)
class Step:
    """One thing the operator did on the ticket after filing it (转办, 直接办结, 作废…)."""

    action: str
    at: dt.datetime
    unit: str | None
    note: str | None


@dataclass(frozen=True)
class SampledTicket:
    number: str
    received_at: dt.datetime
    channel: str
    request_type: str
    urgency: str
    title: str
    body: str
    location: str | None
    name: str | None
    phone: str | None            # as people read it
    state: str
    category: str | None
    call: CallSeen | None
    # 分类建议: accepted (first transfer to the proposed unit), corrected (elsewhere),
    # not_transferred (a proposal, never transferred), none (no proposal).
    classification: str
    proposed_unit: str | None
    first_unit: str | None
    answered: bool
    reply: str | None            # the 直接办结 answer, as shown
    steps: list[Step]

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "received_at": api_time(self.received_at), "channel": self.channel,
                "type": self.request_type, "title": self.title, "state": self.state, "category": self.category,
                "call": self.call.as_dict() if self.call else None, "classification": self.classification,
                "proposed_unit": self.proposed_unit, "first_unit": self.first_unit, "answered": self.answered,
                "reply": self.reply,
                "steps": [{"action": s.action, "at": api_time(s.at), "unit": s.unit, "note": s.note}
                          for s in self.steps]}


@dataclass(frozen=True)
class OperatorSample:
    operator_id: int
    name: str
    filed: int          # tickets they filed in the period
    inspected: int      # of those, already inspected
    tickets: list[SampledTicket]


@dataclass(frozen=True)
class Sample:
    period: Period
    seed: int
    per_operator: int
    operators: list[OperatorSample]


def rank(seed: int, number: str) -> str:
    """A ticket's place in the seed's order: the same on every database and every run."""
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def parse_seed(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_SEED
    value = signed_number(raw.strip())
    if value is None:
        raise InvalidInput("seed", Reason.NOT_INTEGER)
    if not 1 <= value <= MAX_SEED:
        raise InvalidInput("seed", Reason.OUT_OF_RANGE, low=1, high=MAX_SEED)
    return value


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: (d or u) for i, d, u in session.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username).where(StaffUser.id.in_(ids)))}


def sample(session: Session, actor: Actor, period: Period, *, seed: int = DEFAULT_SEED,
           per_operator: int = SAMPLE_PER_OPERATOR) -> Sample:
    """Each operator's sample of the period (see the module)."""
    require_role(actor, SUPERVISING_ROLES, "sample tickets for inspection")
    rows = session.execute(
        select(Ticket.id, Ticket.number, TicketEvent.actor_id, QualityInspection.id)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .outerjoin(QualityInspection, QualityInspection.ticket_id == Ticket.id)
        .where(TicketEvent.action == "receive", TicketEvent.actor_id.is_not(None),
               Ticket.received_at >= period.start, Ticket.received_at < period.end)).all()
    by_operator: dict[int, list[tuple[int, str, bool]]] = {}
    for ticket_id, number, operator_id, inspection_id in rows:
        by_operator.setdefault(operator_id, []).append((ticket_id, number, inspection_id is not None))
    names = _names(session, set(by_operator))
    chosen: dict[int, list[int]] = {}
    counts: dict[int, tuple[int, int]] = {}
    for operator_id, tickets in by_operator.items():
        inspected = sum(1 for t in tickets if t[2])
        waiting = sorted((t for t in tickets if not t[2]), key=lambda t: rank(seed, t[1]))
        chosen[operator_id] = [t[0] for t in waiting[:max(per_operator - inspected, 0)]]
        counts[operator_id] = (len(tickets), inspected)
    details = _details(session, [i for ids in chosen.values() for i in ids])
    operators = [OperatorSample(o, names.get(o, str(o)), *counts[o], [details[i] for i in chosen[o]])
                 for o in sorted(by_operator, key=lambda o: (names.get(o, ""), o))]
    return Sample(period, seed, per_operator, operators)


def _details(session: Session, ticket_ids: list[int]) -> dict[int, SampledTicket]:
    """What the inspector reads of each ticket: the 受理 fields, its call, the classification
    and what its operator did."""
    if not ticket_ids:
        return {}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    calls: dict[int, CallSeen] = {}
    # Who took the call as the supervisor's page names agents: the account at that phone, not
    # the PBX's own name for the member (Li Na), else the phone (PJSIP/7002).
    operators = staff.names_by_extension(session)
    for call in session.scalars(select(Call).where(Call.ticket_id.in_(ticket_ids)).order_by(Call.id)):
        agent = operators.get(staff.extension_of(call.agent)) if call.agent else None
        seen = CallSeen(call.answered_at, call.wait_seconds, call.talk_seconds, agent or call.agent or call.agent_name)
        calls.setdefault(call.ticket_id, seen)  # type: ignore[arg-type]
    outcomes = {o.ticket_id: o for o in session.scalars(
        select(RoutingOutcome).where(RoutingOutcome.ticket_id.in_(ticket_ids)))}
    filers = dict(session.execute(select(TicketEvent.ticket_id, TicketEvent.actor_id)
                                  .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action == "receive")).all())
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                                       TicketEvent.action != "receive").order_by(TicketEvent.id)).all()
    units = {u.id: u for u in session.scalars(select(Unit))}
    unit_names = {u.code: u.name for u in units.values()}
    steps: dict[int, list[Step]] = {}
    answered: set[int] = set()
    for event in events:
        if event.action == "answer":
            answered.add(event.ticket_id)
        if event.actor_id is not None and event.actor_id == filers.get(event.ticket_id):
            unit = units[event.unit_id].name if event.unit_id in units else None
            steps.setdefault(event.ticket_id, []).append(Step(event.action, event.at, unit, event.note))
    found = {}
    for ticket_id in ticket_ids:
        t = tickets[ticket_id]
        outcome = outcomes.get(ticket_id)
        proposed = (t.routing or {}).get("unit_code")
        if outcome is not None:
            classification = "corrected" if outcome.corrected else "accepted"
            proposed, first = outcome.proposed_unit_code, outcome.first_unit_code
        else:
            classification, first = ("not_transferred" if proposed else "none"), None
        found[ticket_id] = SampledTicket(
            t.number, t.received_at, t.channel, t.request_type, t.urgency, t.title, t.body, t.location, t.name,
            national_form(t.phone) if t.phone else None, t.state, t.category, calls.get(ticket_id), classification,
            unit_names.get(proposed, proposed) if proposed else None, unit_names.get(first, first) if first else None,
            ticket_id in answered, shown_reply(t.reply) if t.reply and ticket_id in answered else None,
            steps.get(ticket_id, []))
    return found


# -- the inspection --------------------------------------------------------------------------

@dataclass(frozen=True)
class InspectionView:
    id: int
    number: str
    title: str
    operator_id: int
    operator: str
    inspector: str
    scores: dict[str, int]
    total: int
    comment: str
    created_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "title": self.title, "operator": self.operator,
                "inspector": self.inspector, "scores": dict(self.scores), "total": self.total,
                "comment": self.comment, "created_at": api_time(self.created_at)}


def parse_scores(values: Mapping[str, Any], answered: bool) -> dict[str, int]:
    """Each checklist item's score from `score_<item>`: required and within the item's points
    where it applies; an item that does not apply counts its full points whatever was sent."""
    scores: dict[str, int] = {}
    for item in CHECKLIST:
        if not applies(item, answered):
            scores[item.key] = item.points
            continue
        raw = values.get(item.field)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise InvalidInput(item.field, Reason.SCORE_MISSING, item=item.words, points=item.points)
        value = signed_number(raw.strip()) if isinstance(raw, str) else raw
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(item.field, Reason.NOT_INTEGER)
        if not 0 <= value <= item.points:
            raise InvalidInput(item.field, Reason.SCORE_OUT_OF_RANGE, item=item.words, points=item.points)
        scores[item.key] = value
    return scores


def parse_comment(value: object) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput("quality_comment", Reason.NOT_TEXT)
    comment = (value or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput("quality_comment", Reason.TOO_LONG, limit=MAX_COMMENT_CHARS)
    return comment


def was_answered(session: Session, ticket_id: int) -> bool:
    return session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id,
                                                       TicketEvent.action == "answer").limit(1)) is not None


def inspect(session: Session, actor: Actor, number: str, values: Mapping[str, Any], *,
            now: dt.datetime | None = None) -> QualityInspection:
    """质检 of one ticket: the scores (`score_<item>`) and `comment` as sent; refused when an
    item is missing or past its points, when the ticket was not filed by staff, is the
    inspector's own, or was inspected already."""
    require_role(actor, SUPERVISING_ROLES, "inspect a ticket")
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(Reason.TICKET_NOT_FOUND, number=number[:40])
    operator_id = session.scalar(select(TicketEvent.actor_id).where(TicketEvent.ticket_id == ticket.id,
                                                                    TicketEvent.action == "receive"))
    if operator_id is None:
        raise InvalidInput("number", Reason.NOT_FILED_BY_STAFF, number=ticket.number)
    if operator_id == actor.user_id:
        raise PermissionDenied(Reason.OWN_TICKET_INSPECTION, number=ticket.number)
    _refuse_second(session, ticket)
    scores = parse_scores(values, was_answered(session, ticket.id))
    comment = parse_comment(values.get("comment"))
    now = now or utcnow()
    names = _names(session, {operator_id, *([actor.user_id] if actor.user_id else [])})
    row = QualityInspection(ticket_id=ticket.id, operator_id=operator_id, operator_label=names[operator_id],
                            inspector_id=actor.user_id, inspector_label=names.get(actor.user_id or 0, actor.label),
                            scores=scores, total=sum(scores.values()), comment=comment, created_at=now)
    try:
        with session.begin_nested():   # two at once: the unique ticket id lets one in
            session.add(row)
    except IntegrityError:
        _refuse_second(session, ticket)
        raise
    staff_activity.record(session, staff_activity.ActivityKind.QUALITY_INSPECTED, actor,
                          target=f"ticket:{ticket.number}", now=now,
                          detail={"number": ticket.number, "operator": names[operator_id], "total": row.total,
                                  **{item.field: scores[item.key] for item in CHECKLIST}})
    return row


def _refuse_second(session: Session, ticket: Ticket) -> None:
    by = session.scalar(select(QualityInspection.inspector_label).where(QualityInspection.ticket_id == ticket.id))
    if by is not None:
        raise Conflict(Reason.ALREADY_INSPECTED, number=ticket.number, by=by)


def _views(session: Session, query: Any) -> list[InspectionView]:
    return [InspectionView(r.id, number, title, r.operator_id, r.operator_label, r.inspector_label,
                           dict(r.scores or {}), r.total, r.comment, r.created_at)
            for r, number, title in session.execute(query)]


def _listed() -> Any:
    return (select(QualityInspection, Ticket.number, Ticket.title)
            .join(Ticket, Ticket.id == QualityInspection.ticket_id)
            .order_by(QualityInspection.created_at.desc(), QualityInspection.id.desc()))


def own_inspections(session: Session, actor: Actor, *, shown: int = RECENT_SHOWN) -> list[InspectionView]:
    """我的质检: the inspections of tickets the actor filed, newest first; nobody else's."""
    require_role(actor, DISPATCH_ROLES, "read their inspections")
    if actor.user_id is None:
        return []
    return _views(session, _listed().where(QualityInspection.operator_id == actor.user_id).limit(shown))


def operator_by_username(session: Session, username: str) -> int:
    """The staff id of the account a filter names (its username); unknown: refused in words."""
    found = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    if found is None:
        raise InvalidInput("operator", Reason.UNKNOWN_ACCOUNT, username=username[:40])
    return found


def inspections(session: Session, actor: Actor, page: int = 1, *, operator_id: int | None = None,
                per_page: int = RECENT_SHOWN) -> Page[InspectionView]:
    """A page of inspections, newest first. Supervisors and admins read everyone's, or one
    operator's (`operator_id`); an operator reads only their own (`operator_id` left out or
    their own: anyone else's is refused)."""
    own = operator_id is None or operator_id == actor.user_id
    if operator_id is None and actor.role not in SUPERVISING_ROLES:
        operator_id = actor.user_id
    require_role(actor, DISPATCH_ROLES if own else SUPERVISING_ROLES, "read inspections")
    if actor.role not in SUPERVISING_ROLES and actor.user_id is None:
        return Page([], 1, 1, 0)
    listed = select(QualityInspection).order_by(QualityInspection.created_at.desc(), QualityInspection.id.desc())
    if operator_id is not None:
        listed = listed.where(QualityInspection.operator_id == operator_id)
    found = page_of(session, listed, page, per_page)
    return Page(views_of(session, found.items), found.page, found.pages, found.total, found.more,
                following=found.following)


def views_of(session: Session, rows: list[QualityInspection]) -> list[InspectionView]:
    """The inspections as listed, with their tickets' numbers and titles."""
    tickets = {i: (n, t) for i, n, t in session.execute(
        select(Ticket.id, Ticket.number, Ticket.title).where(Ticket.id.in_([r.ticket_id for r in rows])))}
    return [InspectionView(r.id, *tickets[r.ticket_id], r.operator_id, r.operator_label, r.inspector_label,
                           dict(r.scores or {}), r.total, r.comment, r.created_at) for r in rows]


# -- the figure ------------------------------------------------------------------------------

@dataclass(frozen=True)
class OperatorFigure:
    operator_id: int
    operator: str
    inspected: int
    points: int               # the totals added up

    @property
    def average(self) -> float | None:
        return round(self.points / self.inspected, 1) if self.inspected else None

    def as_dict(self) -> dict[str, Any]:
        return {"operator": self.operator, "inspected": self.inspected, "points": self.points,
                "average": self.average}


def figures(session: Session, actor: Actor, period: Period, *, operator_id: int | None = None) -> list[OperatorFigure]:
    """质检平均分 per operator over the inspected tickets received in the period (a month on the
    pages and the API): Σ total / inspected, by name. `operator_id`: theirs alone."""
    own = operator_id is not None and operator_id == actor.user_id
    require_role(actor, DISPATCH_ROLES if own else SUPERVISING_ROLES, "read the inspection figures")
    query = (select(QualityInspection.operator_id, func.count(), func.sum(QualityInspection.total))
             .join(Ticket, Ticket.id == QualityInspection.ticket_id)
             .where(Ticket.received_at >= period.start, Ticket.received_at < period.end)
             .group_by(QualityInspection.operator_id))
    if operator_id is not None:
        query = query.where(QualityInspection.operator_id == operator_id)
    rows = session.execute(query).all()
    names = _names(session, {r[0] for r in rows})
    found = [OperatorFigure(o, names.get(o, str(o)), int(n), int(s or 0)) for o, n, s in rows]
    return sorted(found, key=lambda f: (f.operator, f.operator_id))
