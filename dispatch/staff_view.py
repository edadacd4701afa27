"""What staff see of a ticket: everything, except that a unit never learns who filed a
confidential (保密) ticket, and unit staff see only tickets that are, or were, with them.
A ticket that has left the unit (parts.left_unit: returned, taken back by 改派, its part
answered or withdrawn) the unit sees as its own history: the citizen hidden as on a 保密
ticket, and of what other units did since, only which unit did what and when."""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dispatch import parts
from dispatch.actors import Actor
from dispatch.audit import shown_action
from dispatch.clock import api_time
from dispatch.corrections import ACTION as CORRECTION
from dispatch.errors import NotFound, Reason
from dispatch.kb_text import shown_reply
from dispatch.lifecycle import is_overdue
from dispatch.masking import mask_text
from dispatch.public import REPLY_ACTIONS
from dispatch.models import StaffUser, Ticket, TicketEvent, Transfer, Unit
from dispatch.vocabulary import LABELS_ZH, Role

HIDDEN = "（保密）"
# An extension's reason and its decision's are between the unit that asked and the centre: a
# 协办 unit or a sub-unit following the lead's timeline sees that the step happened, not why.
EXTENSION_ACTIONS = frozenset({"request_extension", "approve_extension", "refuse_extension"})


def may_see(session: Session, actor: Actor, ticket: Ticket) -> bool:
    if actor.role is not Role.UNIT_STAFF:
        return actor.role is not None or actor.is_system
    if ticket.unit_id == actor.unit_id:
        return True
    return bool(session.scalar(select(exists().where(Transfer.ticket_id == ticket.id,
                                                     Transfer.unit_id == actor.unit_id))))


def visible_ticket(session: Session, actor: Actor, number: str) -> Ticket:
    """The ticket, or NotFound exactly as for an unknown number when the actor may not see it."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number.strip()))
    if ticket is None or not may_see(session, actor, ticket):
        raise NotFound(Reason.TICKET_NOT_FOUND, number=number)
    return ticket


def staff_view(session: Session, actor: Actor, ticket: Ticket) -> dict[str, Any]:
    """The ticket as a staff member may see it; NotFound (not 'forbidden') for a unit that
    may not, so ticket numbers of other units cannot be probed."""
    if not may_see(session, actor, ticket):
        raise NotFound(Reason.TICKET_NOT_FOUND, number=ticket.number)
    left = has_left(session, actor, ticket)
    hide_identity = hides_identity(actor, ticket, left=left)
    names = [ticket.name] if ticket.name else []
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.id)).all()
    unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
    # Staff are shown by the name colleagues know them by (督办员 李强), not their login.
    staff_ids = {e.actor_id for e in events if e.actor_id is not None}
    staff_names = {i: name or login for i, name, login in session.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username).where(StaffUser.id.in_(staff_ids)))
    } if staff_ids else {}
    # Past the unit's own last step, a unit the ticket has left sees no words, ratings or names.
    since_left = 1 + max((i for i, e in enumerate(events) if e.unit_id == actor.unit_id), default=-1) \
        if left else len(events)
    part_views = [v.as_dict() for v in parts.part_views(session, ticket)]
    if left:
        own_code = session.scalar(select(Unit.code).where(Unit.id == actor.unit_id))
        part_views = [v if v["unit_code"] == own_code else {**v, "reply": None, "return_reason": None}
                      for v in part_views]
    return {
        "number": ticket.number, "state": ticket.state, "state_label": LABELS_ZH[ticket.state],
        "version": ticket.version, "channel": ticket.channel, "type": ticket.request_type,
        "urgency": ticket.urgency, "category": ticket.category, "confidential": ticket.confidential,
        # The ticket is no longer the unit's: it sees it as it was, not what came after.
        "left_unit": left,
        "title": mask_text(ticket.title, names) if hide_identity else ticket.title,
        "body": mask_text(ticket.body, names) if hide_identity else ticket.body,
        "phone": HIDDEN if hide_identity else ticket.phone,
        "name": HIDDEN if hide_identity and ticket.name else ticket.name,
        # Where it happened often says who filed it (a flat, a shop): hidden from the unit too.
        "location": HIDDEN if hide_identity and ticket.location else ticket.location,
        "unit": unit_names.get(ticket.unit_id) if ticket.unit_id else None,
        "received_at": api_time(ticket.received_at),
        "deadline": api_time(ticket.deadline) if ticket.deadline else None,
        # the catalogue entry's deadline class it was dispatched under (urgent, quick), if any
        "deadline_class": ticket.deadline_class,
        # Another unit's answer, once the ticket left: the unit's own stays in its steps.
        "reply": shown_reply(ticket.reply) if ticket.reply and not left else None,
        # 协办 and 二次派单 parts of the current transfer: the lead follows their progress here.
        "parts": part_views,
        "events": [_event(e, staff_names, unit_names, names if hide_identity else None, after_left=i >= since_left,
                          without_note=_not_theirs(actor, e))
                   for i, e in enumerate(events)],
    }


def _not_theirs(actor: Actor, e: TicketEvent) -> bool:
    """Unit staff reading another unit's extension step (EXTENSION_ACTIONS)."""
    return actor.role is Role.UNIT_STAFF and e.action in EXTENSION_ACTIONS and e.unit_id != actor.unit_id


def _event(e: TicketEvent, staff_names: dict[int, str], unit_names: dict[int, str], names: list[str] | None,
           *, after_left: bool, without_note: bool = False) -> dict[str, Any]:
    data = e.data or {}
    return {"at": api_time(e.at), "actor": "" if after_left else e.actor,
            "actor_name": None if after_left else staff_names.get(e.actor_id),
            "action": shown_action(e.action, e.data), "from": e.from_state,
            "to": e.to_state, "unit": unit_names.get(e.unit_id) if e.unit_id else None,
            "note": None if after_left or without_note else _note(e, names),
            "rating": None if after_left else data.get("rating"),
            "channel": None if after_left else data.get("channel"),
            # a part's step: "co" (协办) or "forward" (a sub-unit's, 二次派单)
            "role": data.get("role"),
            # a progress note (办理进展): the 督办 it answers, and whether the citizen sees it
            "answers_escalation": data.get("answers_escalation") is not None,
            "public": bool(data.get("public")),
            # 修改受理信息: each field's old and new value, the citizen hidden as on the ticket
            "changes": _changes(data, names) if e.action == CORRECTION and not after_left else None,
            "deadline_change": data.get("deadline") if e.action == CORRECTION and not after_left else None}


# The fields of a correction that say who filed it or where: hidden whole, as the ticket hides them.
_IDENTIFYING = frozenset({"phone", "location", "name"})


def _changes(data: dict[str, Any], names: list[str] | None) -> list[dict[str, Any]] | None:
    changes = data.get("changes")
    if not isinstance(changes, dict):
        return None

    def shown(field: str, value: Any) -> Any:
        if names is None or not value or isinstance(value, bool):   # 保密's flag names nobody
            return value
        return HIDDEN if field in _IDENTIFYING else mask_text(str(value), names)

    return [{"field": field, "old": shown(field, change.get("old")), "new": shown(field, change.get("new"))}
            for field, change in changes.items()]


def has_left(session: Session, actor: Actor, ticket: Ticket) -> bool:
    """Unit staff only: the ticket has left the actor's unit (parts.left_unit)."""
    return ticket.id is not None and bool(left_of(session, actor, [ticket.id]))


def hides_identity(actor: Actor, ticket: Ticket, *, left: bool = False) -> bool:
    """Unit staff do not learn who filed a 保密 ticket, nor one that has left their unit."""
    return actor.role is Role.UNIT_STAFF and (ticket.confidential or left)


def staff_summary(actor: Actor, ticket: Ticket, units: dict[int, Unit], *, left: bool = False) -> dict[str, Any]:
    """A ticket as one row of a staff list (the caller has checked may_see, by query);
    `left`: it has left the actor's unit (left_of)."""
    names = [ticket.name] if ticket.name else []
    unit = units.get(ticket.unit_id) if ticket.unit_id else None
    return {
        "number": ticket.number, "state": ticket.state, "state_label": LABELS_ZH[ticket.state],
        "version": ticket.version, "channel": ticket.channel, "type": ticket.request_type,
        "urgency": ticket.urgency, "confidential": ticket.confidential,
        "title": mask_text(ticket.title, names) if hides_identity(actor, ticket, left=left) else ticket.title,
        "unit_code": unit.code if unit else None, "unit": unit.name if unit else None,
        "received_at": api_time(ticket.received_at),
        "deadline": api_time(ticket.deadline) if ticket.deadline else None,
        "overdue": is_overdue(ticket),
    }


def left_of(session: Session, actor: Actor, ticket_ids: list[int]) -> set[int]:
    """Of these tickets, those that have left the actor's unit (none for other roles)."""
    if actor.role is not Role.UNIT_STAFF or actor.unit_id is None:
        return set()
    return parts.left_of(session, actor.unit_id, ticket_ids)


def masked_titles(session: Session, actor: Actor, ticket_ids: list[int]) -> dict[int, str]:
    """The titles a list shows of those of the tickets that have left the actor's unit, the
    citizen masked as on the ticket page (a 保密 ticket's title the lists hide whole)."""
    left = left_of(session, actor, ticket_ids)
    if not left:
        return {}
    ids = sorted(left)
    return {i: mask_text(title, [name] if name else []) for at in range(0, len(ids), 1000) for i, title, name in
            session.execute(select(Ticket.id, Ticket.title, Ticket.name).where(Ticket.id.in_(ids[at:at + 1000])))}


def _note(event: TicketEvent, names: list[str] | None) -> str | None:
    """An event's note as staff read it: a reply (an answer from an article too) as the
    citizen does; masked when the identity is hidden (`names`)."""
    note = event.note
    if not note:
        return note
    if event.action in REPLY_ACTIONS:
        note = shown_reply(note)
    return mask_text(note, names) if names is not None else note
