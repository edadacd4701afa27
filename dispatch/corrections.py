"""修改受理信息: correcting what was taken down at 受理 (request type, urgency, the caller's
number and name, the request, the place, 保密) while the ticket has not gone to a unit
(CORRECTABLE_STATES); a supervisor or an admin also while a unit holds it, until it is resolved
(SUPERVISOR_CORRECTABLE_STATES). Before, the only way out of a wrong field was 无效 and filing
again: a new number, and the citizen's query code lost.

保密 takes effect as soon as it is committed: every view that hides a confidential ticket (the
public board and Open311, a unit's pages, its webhooks) reads the flag when it is shown.

Every correction is one `correct` event keeping each changed field's old and new value; the
ticket's row is updated in the same transaction, never the events. What follows from a field:
- the deadline, when type and urgency set it: a ticket of no deadline class whose deadline is
  still the one its old type and urgency gave from receipt gets the new type's and urgency's,
  from receipt too. One the catalogue's class set, or that moved since (an extension, a
  re-dispatch), is not theirs to move.
- the title, when it was the start of the old body (filed without one): the new body's start.
- the township, from the new place (or words).
Routing's proposal is not asked again: the classifier runs outside the transaction (it is slow,
and a transaction on SQLite holds the one write lock), and the proposal kept on the ticket is
what the router said of the words as filed, which the proposal acceptance figure counts. The
operator picks the unit on the ticket page as always (and a ticket routing left to people,
with too few words, is proposed for afresh from its words when the page is shown)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import IllegalTransition, InvalidInput, Reason
from dispatch.intake import checked_body, checked_location, checked_name, checked_phone, title_from
from dispatch.models import Ticket, TicketEvent
from dispatch.phone import national_form
from dispatch.states import CORRECTABLE_STATES, SUPERVISOR_CORRECTABLE_STATES, State
from dispatch.townships import Places, township_of
from dispatch.vocabulary import Channel, RequestType, Urgency

ACTION = "correct"
# The fields a correction may change, in the order the record shows them (the form's names).
FIELDS = ("type", "urgency", "phone", "name", "body", "location", "confidential")


@dataclass(frozen=True)
class Correction:
    """What the operator sent: None leaves a field as it is; "" clears the phone, the name or
    the place (where intake would take a ticket without it)."""

    request_type: RequestType | None = None
    urgency: Urgency | None = None
    phone: str | None = None
    body: str | None = None
    location: str | None = None
    name: str | None = None
    confidential: bool | None = None


def may_correct(ticket: Ticket, actor: Actor | None = None) -> bool:
    """Before a unit holds it, for everyone who dispatches; after, for supervisors and admins."""
    if actor is not None and actor.role in SUPERVISING_ROLES:
        return State(ticket.state) in SUPERVISOR_CORRECTABLE_STATES
    return State(ticket.state) in CORRECTABLE_STATES


def correct(session: Session, ticket: Ticket, actor: Actor, correction: Correction, *,
            policy: DeadlinePolicy, max_body_chars: int, places: Places | None = None,
            now: dt.datetime | None = None) -> TicketEvent:
    """Apply the correction and record it; InvalidInput (`changes`) when nothing differs."""
    require_role(actor, DISPATCH_ROLES, "correct tickets")
    if not may_correct(ticket, actor):
        raise IllegalTransition(ticket.state, ACTION, ticket.number)
    lifecycle.check_version(ticket, None)   # the row locked before it is read for the change
    now = now or utcnow()
    new = _checked(ticket, correction, max_body_chars)
    old = {"type": ticket.request_type, "urgency": ticket.urgency, "phone": ticket.phone, "name": ticket.name,
           "body": ticket.body, "location": ticket.location, "confidential": bool(ticket.confidential)}
    changes = {name: {"old": old[name], "new": new[name]} for name in FIELDS
               if name in new and new[name] != old[name]}
    if not changes:
        raise InvalidInput("changes", Reason.NOTHING_CORRECTED)
    data: dict[str, Any] = {"changes": changes}
    deadline = _new_deadline(session, ticket, policy, new.get("type"), new.get("urgency"))
    if deadline is not None:
        data["deadline"] = {"old": ticket.deadline.isoformat() if ticket.deadline else None,
                            "new": deadline.isoformat()}
        ticket.deadline = deadline
    if "body" in changes and ticket.title == title_from(changes["body"]["old"]):
        title = title_from(changes["body"]["new"])
        changes["title"] = {"old": ticket.title, "new": title}
        ticket.title = title
    ticket.request_type = new.get("type", ticket.request_type)
    ticket.urgency = new.get("urgency", ticket.urgency)
    ticket.phone = new.get("phone", ticket.phone)
    ticket.body = new.get("body", ticket.body)
    ticket.location = new.get("location", ticket.location)
    ticket.name = new.get("name", ticket.name)
    ticket.confidential = new.get("confidential", ticket.confidential)
    if places is not None and ("location" in changes or "body" in changes):
        ticket.township = township_of(places, ticket.location, ticket.title, ticket.body)
    return lifecycle.record(session, ticket, ACTION, actor, now=now, data=data)


def _checked(ticket: Ticket, correction: Correction, max_body_chars: int) -> dict[str, Any]:
    """The fields sent, as intake would have stored them (the phone normalised, the body trimmed)."""
    new: dict[str, Any] = {}
    if correction.request_type is not None:
        new["type"] = correction.request_type.value
    if correction.urgency is not None:
        new["urgency"] = correction.urgency.value
    if correction.phone is not None and correction.phone.strip() not in _shown_phones(ticket.phone):
        new["phone"] = checked_phone(Channel(ticket.channel), correction.phone)
    if correction.body is not None:
        new["body"] = checked_body(correction.body, max_body_chars)
    if correction.location is not None:
        new["location"] = checked_location(correction.location)
    if correction.name is not None:
        new["name"] = checked_name(correction.name)
    if correction.confidential is not None:
        new["confidential"] = correction.confidential
    return new


def _shown_phones(phone: str | None) -> tuple[str, ...]:
    """The number as stored and as the page shows it: sent back as it is, it is no change (an
    older number intake would no longer take included)."""
    if not phone:
        return ()
    return (phone, national_form(phone)) if phone.startswith("+") else (phone,)


def _new_deadline(session: Session, ticket: Ticket, policy: DeadlinePolicy, request_type: str | None,
                  urgency: str | None) -> dt.datetime | None:
    """The deadline the new type and urgency give, where theirs is the ticket's (see above)."""
    kind, level = request_type or ticket.request_type, urgency or ticket.urgency
    if (kind, level) == (ticket.request_type, ticket.urgency) or ticket.deadline_class is not None:
        return None
    policy.calendar.sync(session)
    given = policy.deadline(ticket.received_at, RequestType(ticket.request_type), Urgency(ticket.urgency))
    if ticket.deadline != given:
        return None
    new = policy.deadline(ticket.received_at, RequestType(kind), Urgency(level))
    return new if new != ticket.deadline else None
