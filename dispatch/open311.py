"""Open311 GeoReport v2 in the domain's words: a civic app's request becomes an intake on
channel `open311`, and the public tickets are read back as the spec's service requests,
masked as on the public pages, confidential (保密) and invalid (无效) tickets left out."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dispatch import attachments, limits as limit_checks
from dispatch.actors import Actor
from dispatch.attachments import AttachmentLimits, Upload
from dispatch.clock import CHINA, utcnow
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake, proposal_for
from dispatch.limits import Limits
from dispatch.kb_text import shown_reply
from dispatch.masking import mask_location, mask_text, written_point
from dispatch.moments import parse_moment
from dispatch.models import CatalogueEntry, Open311Client, Open311Submission, Ticket, TicketEvent, Unit
from dispatch.open311_services import (ATTRIBUTES, CONFIDENTIAL, REQUEST_TYPE, YES, Service, current_services,
                                       service_by_code)
from dispatch.routing import Router
from dispatch.staff_view import has_left, hides_identity
from dispatch.states import FINISHED_STATES, State
from dispatch.units import City
from dispatch.vocabulary import PUBLIC_LABELS_ZH, Channel, RequestType

OPEN, CLOSED = "open", "closed"
# The spec: without dates, the last 90 days; a range may not span more; at most 1000 answers.
DEFAULT_SPAN = dt.timedelta(days=90)
MAX_RESULTS = 1000
# Invalid tickets (pranks, abuse, tests) are not the city's business to publish.
HIDDEN_STATES = (State.INVALID.value,)
_FINISHED = {s.value for s in FINISHED_STATES}
_TEXT_LIMITS = {"email": 200, "device_id": 100, "account_id": 100, "media_url": 500, "first_name": 50,
                "last_name": 50}


@dataclass(frozen=True)
class Submission:
    """A POST requests as the client sent it (strings, parsed here)."""

    service_code: str | None
    description: str | None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    # A multipart form's `media` file: the photo itself, taken as the web form's photos are.
    media: Upload | None = None


@dataclass(frozen=True)
class Receipt:
    service_request_id: str
    service_notice: str
    account_id: str | None


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, in China time, as the spec's examples show."""
    return None if moment is None else moment.astimezone(CHINA).isoformat(timespec="seconds")


# ---- submitting ---------------------------------------------------------------------------

def submit(session: Session, client: Open311Client, submission: Submission, *, city: City, rules: IntakeRules,
           router: Router | None, limits: Limits, now: dt.datetime | None = None,
           photo_limits: AttachmentLimits = AttachmentLimits()) -> Receipt:
    """File a client's request through the one intake, its `media` photo with it
    (dispatch/attachments.py: checked, stripped, an `attach` event by citizen:open311; a
    photo refused refuses the request, nothing half-filed); the caller commits.

    media_url is kept as the client gave it, never fetched: a link anyone may write, to any
    host, fetched from inside the city's network would be a door to what is behind it."""
    now = now or utcnow()
    code = (submission.service_code or "").strip()
    if not code:
        raise InvalidInput("service_code", Reason.REQUIRED)
    service = service_by_code(session, city, code)
    if service is None:  # the spec: a service_code not found is a 404
        raise NotFound(Reason.SERVICE_NOT_FOUND, code=code[:64])
    point = _coordinates(submission.lat, submission.long)
    address = (submission.address_string or "").strip() or None
    if point is None and address is None:
        raise InvalidInput("address_string", Reason.LOCATION_REQUIRED)
    extra = {name: _short(getattr(submission, name), name, limit) for name, limit in _TEXT_LIMITS.items()}
    request = IntakeRequest(channel=Channel.OPEN311, body=submission.description or "", phone=submission.phone,
                            name=_name(extra["first_name"], extra["last_name"]), location=_location(address, point),
                            request_type=_request_type(submission.attributes),
                            confidential=_confidential(submission.attributes), category=service.category)
    limit_checks.count_open311_intake(session, limits, client.id, now)
    # Routing reads the location (the address) for a township before the text, as for every channel.
    result = intake(session, request, rules, now=now, proposal=proposal_for(request, rules, router))
    ticket = result.ticket
    if result.created and service.entry_id is not None:
        ticket.catalogue_entry_id = service.entry_id  # the citizen chose the entry: dispatched under it
    if submission.media is not None:
        # With the ticket filed, or with the open one a repeat joined, as on the web form.
        attachments.add(session, ticket, Actor.citizen(Channel.OPEN311.value), [submission.media], photo_limits,
                        now=now)
    session.add(Open311Submission(ticket_id=ticket.id, client_id=client.id, received_at=now,
                                  service_code=service.code, lat=point[0] if point else None,
                                  long=point[1] if point else None, address_string=address,
                                  email=extra["email"], device_id=extra["device_id"],
                                  account_id=extra["account_id"], media_url=extra["media_url"]))
    if result.repeat_of_open_ticket:
        notice = f"您反映的问题已有在办工单 {ticket.number}，本次反映已并入该工单。"
    else:
        notice = (f"已受理，工单号 {ticket.number}，查询码 {ticket.query_code}；"
                  f"办理时限至 {ticket.deadline.astimezone(CHINA):%Y-%m-%d %H:%M}。" if ticket.deadline
                  else f"已受理，工单号 {ticket.number}，查询码 {ticket.query_code}。")
    return Receipt(service_request_id=ticket.number, service_notice=notice, account_id=extra["account_id"])


def _coordinates(lat: str | None, long: str | None) -> tuple[float, float] | None:
    lat, long = (lat or "").strip(), (long or "").strip()
    if not lat and not long:
        return None
    try:
        point = float(lat), float(long)
    except ValueError:
        raise InvalidInput("lat", Reason.BAD_COORDINATES) from None
    if not all(math.isfinite(v) for v in point) or not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise InvalidInput("lat", Reason.BAD_COORDINATES)
    return point


def _location(address: str | None, point: tuple[float, float] | None) -> str | None:
    where = written_point(*point) if point else None
    if address and where:
        return f"{address}（{where}）"
    return address or where


def _written(ticket: Ticket, submission: Open311Submission | None) -> str | None:
    """The point the system wrote after the ticket's address: its first request's, when the
    ticket came in by Open311 (a repeat joined to it did not write its location)."""
    if ticket.channel != Channel.OPEN311 or submission is None or submission.lat is None or submission.long is None:
        return None
    return written_point(submission.lat, submission.long)


def _short(value: str | None, name: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(name, Reason.TOO_LONG, limit=limit)
    return text or None


def _name(first: str | None, last: str | None) -> str | None:
    """Chinese names put the family name first; Latin ones keep the given name first."""
    parts = [p for p in (first, last) if p]
    if not parts:
        return None
    if all(p.isascii() for p in parts):
        return " ".join(parts)
    return "".join(p for p in (last, first) if p)


def _choice(attributes: Mapping[str, str], code: str) -> str | None:
    value = (attributes.get(code) or "").strip()
    if not value:
        return None
    allowed = next(a for a in ATTRIBUTES if a.code == code).values
    if value not in {key for key, _ in allowed}:
        raise InvalidInput("attribute", Reason.BAD_ATTRIBUTE, code=code)
    return value


def _request_type(attributes: Mapping[str, str]) -> RequestType:
    value = _choice(attributes, REQUEST_TYPE)
    return RequestType(value) if value else RequestType.COMPLAINT


def _confidential(attributes: Mapping[str, str]) -> bool:
    return _choice(attributes, CONFIDENTIAL) == YES


def media_links(session: Session, actor: Actor, ticket: Ticket) -> list[str]:
    """The media_url each Open311 request filed on this ticket gave, for staff to open with
    care (never fetched: see submit()); none for unit staff who may not learn who filed it
    (a 保密 ticket, one that has left the unit), as they see no other detail of the citizen's."""
    if hides_identity(actor, ticket, left=has_left(session, actor, ticket)):
        return []
    return list(session.scalars(select(Open311Submission.media_url).where(
        Open311Submission.ticket_id == ticket.id, Open311Submission.media_url.is_not(None))
        .order_by(Open311Submission.id)))


# ---- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()          # given: the other filters are ignored, as the spec says
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset()


def parse_datetime(name: str, raw: str, *, day_end: bool = False) -> dt.datetime:
    """As dispatch.moments reads a moment; `day_end`: end_date, where a date alone means its
    whole day."""
    return parse_moment(name, raw, day_end=day_end)


def parse_statuses(raw: str) -> frozenset[str]:
    wanted = frozenset(s.strip().lower() for s in raw.split(",") if s.strip())
    for status in wanted:
        if status not in (OPEN, CLOSED):
            raise InvalidInput("status", Reason.BAD_OPEN311_STATUS, value=status)
    return wanted


def service_requests(session: Session, city: City, query: RequestQuery,
                     now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The public tickets the query asks for, newest first, as the spec's request fields."""
    services = current_services(session, city)
    statement = select(Ticket).where(Ticket.confidential.is_(False), Ticket.state.not_in(HIDDEN_STATES))
    if query.ids:
        statement = statement.where(Ticket.number.in_(query.ids[:MAX_RESULTS]))
    else:
        statement = _filtered(statement, services, query, now or utcnow())
    tickets = list(session.scalars(statement.order_by(Ticket.received_at.desc(), Ticket.id.desc())
                                   .limit(MAX_RESULTS)))
    return _as_requests(session, tickets, services)


def _filtered(statement: Any, services: list[Service], query: RequestQuery, now: dt.datetime) -> Any:
    end = query.end or ((query.start + DEFAULT_SPAN) if query.start else now)
    start = query.start or end - DEFAULT_SPAN
    if start > end:
        raise InvalidInput("start_date", Reason.PERIOD_REVERSED)
    if end - start > DEFAULT_SPAN:
        raise InvalidInput("end_date", Reason.PERIOD_TOO_LONG, limit=DEFAULT_SPAN.days)
    statement = statement.where(Ticket.received_at >= start, Ticket.received_at <= end)
    if query.service_codes:
        chosen = [s for s in services if s.code in query.service_codes]
        entries = [s.entry_code for s in chosen if s.entry_code is not None]
        categories = [s.category for s in chosen if s.entry_code is None]
        # A catalogue service matches the tickets dispatched under its entry (any version).
        statement = statement.where(or_(
            Ticket.catalogue_entry_id.in_(select(CatalogueEntry.id).where(CatalogueEntry.code.in_(entries))),
            Ticket.category.in_(categories)))
    if query.statuses == {OPEN}:
        statement = statement.where(Ticket.state.not_in(_FINISHED))
    elif query.statuses == {CLOSED}:
        statement = statement.where(Ticket.state.in_(_FINISHED))
    return statement


def _as_requests(session: Session, tickets: list[Ticket], services: list[Service]) -> list[dict[str, Any]]:
    if not tickets:
        return []
    ids = [t.id for t in tickets]
    updated = dict(session.execute(select(TicketEvent.ticket_id, func.max(TicketEvent.at))
                                   .where(TicketEvent.ticket_id.in_(ids)).group_by(TicketEvent.ticket_id)).all())
    first_submission = (select(Open311Submission.ticket_id, func.min(Open311Submission.id).label("id"))
                        .where(Open311Submission.ticket_id.in_(ids)).group_by(Open311Submission.ticket_id)
                        .subquery())
    submissions = {s.ticket_id: s for s in session.scalars(
        select(Open311Submission).join(first_submission, first_submission.c.id == Open311Submission.id))}
    unit_ids = {t.unit_id for t in tickets if t.unit_id is not None}
    unit_names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()) \
        if unit_ids else {}
    entry_ids = {t.catalogue_entry_id for t in tickets if t.catalogue_entry_id is not None}
    entry_codes = dict(session.execute(select(CatalogueEntry.id, CatalogueEntry.code)
                                       .where(CatalogueEntry.id.in_(entry_ids))).all()) if entry_ids else {}
    by_code = {s.code: s for s in services}
    by_category = {s.category: s for s in services if s.entry_code is None}

    def service_of(ticket: Ticket) -> Service | None:
        code = entry_codes.get(ticket.catalogue_entry_id) if ticket.catalogue_entry_id is not None else None
        return by_code.get(code) if code is not None else by_category.get(ticket.category or "")

    return [_as_request(t, service_of(t), unit_names.get(t.unit_id), updated.get(t.id), submissions.get(t.id))
            for t in tickets]


def _as_request(ticket: Ticket, service: Service | None, unit_name: str | None, updated: dt.datetime | None,
                submission: Open311Submission | None) -> dict[str, Any]:
    hide = [ticket.name] if ticket.name else []
    label = PUBLIC_LABELS_ZH[ticket.state]
    notes = f"{label}：{mask_text(shown_reply(ticket.reply), hide)}" if ticket.reply else label
    updated = updated.replace(tzinfo=dt.timezone.utc) if updated is not None and updated.tzinfo is None else updated
    return {
        "service_request_id": ticket.number,
        "status": CLOSED if ticket.state in _FINISHED else OPEN,
        "status_notes": notes,
        "service_name": service.name if service else None,
        "service_code": service.code if service else None,
        "description": mask_text(ticket.body, hide),
        "agency_responsible": unit_name,
        "service_notice": None,
        "requested_datetime": iso(ticket.received_at),
        "updated_datetime": iso(updated or ticket.received_at),
        "expected_datetime": iso(ticket.deadline),
        "address": mask_location(ticket.location, hide, written=_written(ticket, submission))
        if ticket.location else None,
        "address_id": None,
        "zipcode": None,
        "lat": submission.lat if submission else None,
        "long": submission.long if submission else None,
        "media_url": submission.media_url if submission else None,
    }
