"""What a citizen (or anyone holding the number and query code) may see of a ticket.

Personal data is masked as on the public pages, but for the unit's reply: the numbers it
gives to call back stay whole (notifications.citizen_reply), since only the citizen holds
the code. The public board and Open311 mask them (queries.recently_resolved, open311)."""
from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from dispatch import parts
from dispatch.audit import shown_action
from dispatch.clock import api_time, utcnow
from dispatch.errors import NotFound, Reason
from dispatch.kb_text import shown_reply
from dispatch.lifecycle import is_overdue
from dispatch.masking import mask_location, mask_name, mask_phone, mask_text, written_point
from dispatch.notifications import citizen_reply
from dispatch.models import Attachment, Open311Submission, Ticket, TicketEvent, Unit
from dispatch.states import BOARD_BUCKET, State
from dispatch.vocabulary import PUBLIC_LABELS_ZH, Channel

# Actions a citizen sees on the timeline; internal notes (return reasons, escalations) stay inside.
PUBLIC_ACTIONS = {"receive", "transfer", "accept", "return", "resolve", "answer", "close", "reopen",
                  "invalidate", "merge", "approve_extension", "repeat_contact", "main_resolved", "handover",
                  "rate", "addition"}
# Actions whose note is the reply meant for the citizen.
REPLY_ACTIONS = {"resolve", "answer", "main_resolved"}

# Built once (a status lookup is the busiest public page); the timeline reads only the
# columns it shows (and data, which says what an older row was), no event objects.
_BY_NUMBER = select(Ticket).where(Ticket.number == bindparam("number"))
_TIMELINE = (select(TicketEvent.at, TicketEvent.action, TicketEvent.to_state, TicketEvent.unit_id, TicketEvent.note,
                    TicketEvent.data)
             .where(TicketEvent.ticket_id == bindparam("ticket_id")).order_by(TicketEvent.id))


def ticket_by_number(session: Session, number: str) -> Ticket:
    ticket = session.scalar(_BY_NUMBER, {"number": number.strip()})
    if ticket is None:
        raise NotFound(Reason.TICKET_NOT_FOUND, number=number)
    return ticket


def lookup(session: Session, number: str, query_code: str) -> Ticket:
    """The ticket if the code matches; a wrong code is told exactly like an unknown number."""
    ticket = session.scalar(_BY_NUMBER, {"number": number.strip()})
    given = (query_code or "").strip().encode()
    if ticket is None or not hmac.compare_digest(ticket.query_code.encode(), given):
        raise NotFound(Reason.LOOKUP_FAILED)
    return ticket


def _open311_point(session: Session, ticket: Ticket) -> str | None:
    """The point the system wrote after an Open311 ticket's address: its first request's lat
    and long (a request joined to it later did not write the location)."""
    if ticket.channel != Channel.OPEN311:
        return None
    point = session.execute(select(Open311Submission.lat, Open311Submission.long)
                            .where(Open311Submission.ticket_id == ticket.id)
                            .order_by(Open311Submission.id).limit(1)).first()
    return written_point(point[0], point[1]) if point and point[0] is not None and point[1] is not None else None


def public_view(session: Session, ticket: Ticket, unit_names: dict[int, str] | None = None) -> dict[str, Any]:
    """`unit_names`: every unit's name by id, when the caller keeps them (else read here)."""
    names = [ticket.name] if ticket.name else []
    if unit_names is None:
        unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
    timeline = []
    for at, action, to_state, unit_id, note, data in session.execute(_TIMELINE, {"ticket_id": ticket.id}):
        action = shown_action(action, data)
        progress_shown = action == "progress" and bool((data or {}).get("public"))   # the unit chose to show it
        if action not in PUBLIC_ACTIONS and not progress_shown:
            continue
        entry: dict[str, Any] = {"at": api_time(at), "action": action,
                                 "state": to_state, "state_label": PUBLIC_LABELS_ZH.get(to_state, to_state)}
        if unit_id is not None:
            entry["unit"] = unit_names.get(unit_id)
        if action in REPLY_ACTIONS and note:
            entry["reply"] = citizen_reply(ticket, shown_reply(note))
        if progress_shown and note:   # a unit's words, masked as its reply is
            entry["text"] = citizen_reply(ticket, note)
        if action == "addition" and note:   # the citizen's own words, masked as their request is
            entry["text"] = mask_text(note, names)
        timeline.append(entry)
    state = State(ticket.state)
    return {
        "number": ticket.number,
        "state": state.value,
        "state_label": PUBLIC_LABELS_ZH[state.value],
        "bucket": BOARD_BUCKET[state].value,
        "channel": ticket.channel,
        "type": ticket.request_type,
        "title": mask_text(ticket.title, names),
        "body": mask_text(ticket.body, names),
        "name": mask_name(ticket.name),
        "phone": mask_phone(ticket.phone),
        "location": mask_location(ticket.location, names, written=_open311_point(session, ticket))
        if ticket.location else None,
        "unit": unit_names.get(ticket.unit_id) if ticket.unit_id else None,
        "received_at": api_time(ticket.received_at),
        "deadline": api_time(ticket.deadline) if ticket.deadline else None,
        "resolved_at": api_time(ticket.resolved_at) if ticket.resolved_at else None,
        "overdue": is_overdue(ticket, utcnow()),
        "reply": citizen_reply(ticket, shown_reply(ticket.reply)) if ticket.reply else None,
        # One reply, the lead's; beneath it what each co-handling unit answered (协办意见).
        "parts": [{"unit": unit, "reply": citizen_reply(ticket, reply)} for unit, reply in parts.co_replies(session, ticket)]
        if ticket.reply else [],
        "timeline": timeline,
        # How many photos the citizen sent with it, never the photos: faces, plates and papers in them
        # cannot be masked as words are.
        "photo_count": attachment_count(session, ticket.id),
    }


def attachment_count(session: Session, ticket_id: int) -> int:
    """How many photos the citizen sent with the ticket (dispatch/attachments.py keeps them):
    staff's photos (a unit's 办结照片) are not the citizen's to count."""
    return session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.ticket_id == ticket_id, Attachment.added_by.startswith("citizen:", autoescape=True))) or 0
