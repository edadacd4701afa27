"""The one intake every channel calls: phone, SMS and web differ only in how they fill it."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from classifier.features import message_text
from dispatch.actors import Actor
from dispatch.audit import seal
from dispatch.clock import utcnow
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import InvalidInput, Reason
from dispatch.lifecycle import record
from dispatch.models import IntakeSource, Ticket, TicketEvent
from dispatch.numbering import new_query_code, next_number
from dispatch.phone import normalise_phone
from dispatch.routing import Router, RoutingAnswer
from dispatch.states import FINISHED_STATES, State
from dispatch.townships import Places, gazetteer_places, places_of_session, township_of
from dispatch.vocabulary import Channel, RequestType, Urgency

TITLE_MAX = 200
NAME_MAX = 100
LOCATION_MAX = 300
TITLE_FROM_BODY = 30


@dataclass(frozen=True)
class IntakeRules:
    max_body_chars: int = 5000
    repeat_window: dt.timedelta = dt.timedelta(hours=24)
    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)


@dataclass(frozen=True)
class IntakeRequest:
    channel: Channel
    body: str
    title: str | None = None
    phone: str | None = None
    name: str | None = None
    location: str | None = None
    request_type: RequestType = RequestType.COMPLAINT
    urgency: Urgency = Urgency.NORMAL
    confidential: bool = False
    category: str | None = None
    # What the channel calls this submission (call Linkedid, SMS MessageSid, form id):
    # the same reference twice is a retry and returns the first answer.
    channel_ref: str | None = None
    # The call (its Linkedid) an operator files this from: kept on the source, so that the
    # call's row, if it is written later, still finds its ticket.
    call_linkedid: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool
    repeat_of_open_ticket: bool = False
    retried: bool = False


@dataclass(frozen=True)
class _Clean:
    body: str
    title: str
    phone: str | None
    name: str | None
    location: str | None


def intake(session: Session, request: IntakeRequest, rules: IntakeRules, *,
           actor: Actor | None = None, now: dt.datetime | None = None,
           router: Router | None = None, proposal: RoutingAnswer | None = None,
           ref_checked: bool = False, open_tickets: Sequence[Ticket] | None = None) -> IntakeResult:
    """Validate, number and store a citizen's request; or link it to what it repeats.
    With a router, the ticket keeps the proposed unit and why, for the operator to confirm;
    a proposal made beforehand by proposal_for() is taken as it is.

    A channel that has already done part of the reading in this transaction says so, and
    intake does not read it again:
    - ref_checked: the channel looked its channel_ref up and found it new. It must run the
      whole transaction again when a concurrent delivery of the same reference commits
      first (the unique constraint then fails at commit).
    - open_tickets: the contact's open tickets, newest first.
    """
    now = now or utcnow()
    actor = actor or Actor.citizen(request.channel.value)
    checking_ref = bool(request.channel_ref) and not ref_checked
    if checking_ref:
        earlier = earlier_answer(session, request.channel, request.channel_ref)
        if earlier is not None:
            return earlier
    clean = _validate(request, rules)
    channel_ref = request.channel_ref or uuid.uuid4().hex
    # Only a channel's own reference can be stored twice at once (a webhook retried while the
    # first attempt is still running); a savepoint lets that loser answer like a retry.
    guard = session.begin_nested() if checking_ref else contextlib.nullcontext()
    try:
        with guard:
            repeated = _open_repeat(session, clean, now - rules.repeat_window, open_tickets)
            if repeated is not None:
                # Its row locked before the source is written (see _LOCK_TICKET).
                session.execute(_LOCK_TICKET, {"ticket_id": repeated.id})
                add_source(session, repeated, request.channel, channel_ref, clean.body, now,
                           call_linkedid=request.call_linkedid)
                record(session, repeated, "repeat_contact", actor, now=now, note=clean.body,
                       data={"channel": request.channel.value, "channel_ref": channel_ref})
                return IntakeResult(ticket=repeated, created=False, repeat_of_open_ticket=True)
            if proposal is None and router is not None:
                proposal = router.route(message_text(clean.title, clean.body), clean.location)
            rules.policy.calendar.sync(session)
            ticket = _create(session, request, clean, rules, now, proposal, next_number(session, now),
                             places_for(session, router))
            _receive(session, ticket, actor, now)
            session.flush()  # one flush for the ticket and its event: the source needs its id
            # Inside the savepoint, so that a duplicate channel reference fails here.
            add_source(session, ticket, request.channel, channel_ref, clean.body, now,
                       call_linkedid=request.call_linkedid)
    except IntegrityError:
        if not checking_ref:
            raise
        earlier = earlier_answer(session, request.channel, channel_ref)
        if earlier is None:
            raise
        return earlier
    return IntakeResult(ticket=ticket, created=True)


def proposed_entry_id(proposal: RoutingAnswer | None) -> int | None:
    """The catalogue entry a new ticket is filed under: the proposal's, unless it is of another
    category than the proposal (an entry the model disagreed with, offered as a suggestion)."""
    entry = (proposal.entry or {}) if proposal else {}
    if proposal is None or proposal.category not in (None, entry.get("level1", proposal.category)):
        return None
    return entry.get("entry_id")


def proposal_for(request: IntakeRequest, rules: IntakeRules, router: Router | None) -> RoutingAnswer | None:
    """What routing proposes for a request, from its text alone, for intake(proposal=...).

    Classifying is the slowest step of an intake and needs no database: a channel runs this
    before its transaction, so that the transaction (on SQLite, the one write lock) is short.
    None when there is no router or the request is invalid (intake then says why)."""
    if router is None:
        return None
    try:
        clean = _validate(request, rules)
    except InvalidInput:
        return None
    return router.route(message_text(clean.title, clean.body), clean.location)


def draft_proposal(router: Router | None, *, title: str | None, body: str | None,
                   location: str | None = None) -> RoutingAnswer | None:
    """What routing would propose for the ticket these words would file, while they are still
    being typed (the operator's console): the same text intake() routes (the title, or the
    start of the body when there is none, before the body) and the same location, so that the
    figure shown before filing is the one the ticket keeps. None with nothing to read yet."""
    text = draft_text(title, body)
    if router is None or not text:
        return None
    return router.route(text, _printable(location)[:LOCATION_MAX] or None)


def draft_text(title: str | None, body: str | None) -> str:
    """The text of the ticket these words would file, as intake() reads it: the title, or the
    start of the body when there is none, before the body. Empty with no body yet."""
    clean_body = _printable(body)
    if not clean_body:
        return ""
    return message_text(_printable(title)[:TITLE_MAX] or _title_from(clean_body), clean_body)


def proposals_for(requests: Sequence[IntakeRequest], rules: IntakeRules,
                  router: Router | None) -> list[RoutingAnswer | None]:
    """[proposal_for(request, rules, router) for request in requests], the model asked once
    for them all (Router.route_many)."""
    if router is None:
        return [None] * len(requests)
    texts: dict[int, str] = {}
    locations: dict[int, str | None] = {}
    for i, request in enumerate(requests):
        try:
            clean = _validate(request, rules)
        except InvalidInput:
            continue
        texts[i], locations[i] = message_text(clean.title, clean.body), clean.location
    answers = dict(zip(texts, router.route_many(list(texts.values()), list(locations.values()))))
    return [answers.get(i) for i in range(len(requests))]


# C0 control characters but tab, newline and carriage return: nobody types them, a copy from
# another program brings them, and XML 1.0 (the Open311 feed) or a spreadsheet cannot hold them.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _printable(value: str | None) -> str:
    return _CONTROLS.sub("", value or "").strip()


def _validate(request: IntakeRequest, rules: IntakeRules) -> _Clean:
    body = checked_body(request.body, rules.max_body_chars)
    title = _optional(request.title, "title", TITLE_MAX) or _title_from(body)
    return _Clean(body=body, title=title, phone=checked_phone(request.channel, request.phone),
                  name=_optional(request.name, "name", NAME_MAX),
                  location=checked_location(request.location))


# The checks of intake, one field at a time: a correction after 受理 (dispatch/corrections.py)
# holds the fields to what intake would have taken.

def checked_body(value: str | None, max_chars: int) -> str:
    body = _printable(value)
    if not body:
        raise InvalidInput("body", Reason.REQUIRED)
    if len(body) > max_chars:
        raise InvalidInput("body", Reason.TOO_LONG, limit=max_chars, length=len(body))
    return body


def checked_phone(channel: Channel, value: str | None) -> str | None:
    phone = normalise_phone(value) if value and value.strip() else None
    if channel in (Channel.PHONE, Channel.SMS) and phone is None:
        raise InvalidInput("phone", Reason.PHONE_REQUIRED, channel=channel.value)
    return phone


def checked_location(value: str | None) -> str | None:
    return _optional(value, "location", LOCATION_MAX)


def checked_name(value: str | None) -> str | None:
    return _optional(value, "name", NAME_MAX)


def title_from(body: str) -> str:
    """The title a ticket filed without one takes from its body."""
    return _title_from(body)


def _optional(value: str | None, field_name: str, limit: int) -> str | None:
    text = _printable(value)
    if len(text) > limit:
        raise InvalidInput(field_name, Reason.TOO_LONG, limit=limit)
    return text or None


def _title_from(body: str) -> str:
    first_line = body.splitlines()[0]
    return first_line[:TITLE_FROM_BODY] + ("…" if len(first_line) > TITLE_FROM_BODY else "")


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def fingerprint(text: str) -> str:
    """What stays of a message when spacing, punctuation and full/half width are ignored."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


# Built once: constructing the statement per request cost more than running it.
_OPEN_TICKETS_OF_CONTACT = (
    select(Ticket)
    .where(Ticket.phone == bindparam("phone"), Ticket.received_at >= bindparam("since"),
           Ticket.state.not_in([s.value for s in FINISHED_STATES]))
    .order_by(Ticket.received_at.desc())
)
# A repeat's source takes a share lock on its ticket's row (the foreign key), and the event
# then asks for the row itself (audit.last_hash): repeats that each held the share lock
# waited on one another, a deadlock PostgreSQL broke after a second (deadlock_timeout) by
# failing one of them, a 409 for a citizen's form.
_LOCK_TICKET = select(Ticket.id).where(Ticket.id == bindparam("ticket_id")).with_for_update()


def _open_repeat(session: Session, clean: _Clean, since: dt.datetime,
                 open_tickets: Sequence[Ticket] | None) -> Ticket | None:
    if clean.phone is None:
        return None
    if open_tickets is None:
        candidates = session.scalars(_OPEN_TICKETS_OF_CONTACT, {"phone": clean.phone, "since": since})
    else:
        candidates = (t for t in open_tickets if t.received_at >= since)
    wanted = fingerprint(clean.body)
    for ticket in candidates:
        if fingerprint(ticket.body) == wanted:
            return ticket
    return None


def _create(session: Session, request: IntakeRequest, clean: _Clean, rules: IntakeRules,
            now: dt.datetime, proposal: RoutingAnswer | None, number: str, places: Places) -> Ticket:
    """The new ticket, added to the session (the caller has synced the calendar)."""
    ticket = Ticket(
        number=number, query_code=new_query_code(),
        channel=request.channel.value, request_type=request.request_type.value,
        urgency=request.urgency.value, title=clean.title, body=clean.body, phone=clean.phone,
        name=clean.name, location=clean.location, confidential=request.confidential,
        township=township_of(places, clean.location, clean.title, clean.body),
        category=request.category or (proposal.category if proposal else None),
        routing=proposal.as_dict() if proposal else None, state=State.RECEIVED.value, received_at=now,
        catalogue_entry_id=proposed_entry_id(proposal),
        deadline=rules.policy.deadline(now, request.request_type, request.urgency),
        transfer_count=0, accepted_transfer_count=0, return_count=0,
    )
    session.add(ticket)
    return ticket


def places_for(session: Session, router: Router | None) -> Places:
    """Where a new ticket's township is looked up: the router's gazetteer where there is one
    (the city's place names), else the township units' names."""
    return gazetteer_places(router.gazetteer) if router is not None else places_of_session(session)


def _receive(session: Session, ticket: Ticket, actor: Actor, now: dt.datetime) -> None:
    """The ticket's first event, sealed as the start of its chain."""
    received = TicketEvent(ticket=ticket, at=now, actor_id=actor.user_id, actor=actor.label, action="receive",
                           from_state=None, to_state=State.RECEIVED.value, data={"channel": ticket.channel})
    seal(received, ticket.number, None)
    session.add(received)


_INSERT_SOURCE = insert(IntakeSource.__table__)


def add_source(session: Session, ticket: Ticket, channel: Channel, channel_ref: str, body: str,
                now: dt.datetime, *, call_linkedid: str | None = None) -> None:
    """Sources are append-only and need no flush hooks: a plain INSERT, cheaper than the ORM's."""
    session.connection().execute(_INSERT_SOURCE, _source_row(ticket, channel, channel_ref, body, now, call_linkedid))


def _source_row(ticket: Ticket, channel: Channel, channel_ref: str, body: str, now: dt.datetime,
                call_linkedid: str | None) -> dict[str, object]:
    return {"ticket_id": ticket.id, "channel": channel.value, "channel_ref": channel_ref, "received_at": now,
            "body": body, "call_linkedid": call_linkedid}


_EARLIER_SOURCE = aliased(IntakeSource)
_TICKET_FOR_REF = (
    select(Ticket, exists().where(_EARLIER_SOURCE.ticket_id == Ticket.id, _EARLIER_SOURCE.id < IntakeSource.id))
    .join(IntakeSource, IntakeSource.ticket_id == Ticket.id)
    .where(IntakeSource.channel == bindparam("channel"), IntakeSource.channel_ref == bindparam("ref"))
)


def earlier_answer(session: Session, channel: Channel, channel_ref: str) -> IntakeResult | None:
    """The answer a retried submission got the first time, None for a new one. A submission
    joined to an open ticket it repeated (not that ticket's first source) is told so again,
    never the ticket's number and query code: those are its first sender's, and sending the
    same form twice must not reveal them."""
    row = session.execute(_TICKET_FOR_REF, {"channel": channel.value, "ref": channel_ref}).first()
    if row is None:
        return None
    ticket, joined = row
    return IntakeResult(ticket=ticket, created=False, repeat_of_open_ticket=bool(joined), retried=True)
