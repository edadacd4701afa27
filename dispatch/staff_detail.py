"""A ticket with everything a staff member acts on: the staff view (timeline included), the
actions their role allows now, an open dispute, a pending extension, a flag on the caller's
number, the duplicates merged into it (多人反映), and while it may be merged the caller's
earlier open tickets it may repeat (dispatch/repeats.py: a proposal, for the staff member to
合并). Also its similar open tickets, kept to those the user may see. Read-only."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import attachments, disputes, flags, lifecycle, media_fetches, queries, repeats, similarity
from dispatch.actions import allowed_actions
from dispatch.actors import Actor
from dispatch.clock import api_time
from dispatch.models import CatalogueEntry, Dispute, ExtensionRequest, Ticket, Unit
from dispatch.gram_index import GramIndex
from dispatch.similarity import Places
from dispatch.staff_view import hides_identity, left_of, may_see, staff_view, visible_ticket
from dispatch.vocabulary import Role


def ticket_detail(session: Session, actor: Actor, number: str, *,
                  repeat_days: int = repeats.DEFAULT_REPEAT_DAYS) -> dict[str, Any]:
    ticket = visible_ticket(session, actor, number)
    view = staff_view(session, actor, ticket)
    left = bool(view["left_unit"])
    hidden = hides_identity(actor, ticket, left=left)
    unit = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    duplicates = [t.number for t in queries.merged_into(session, ticket.id)]
    main = session.scalar(select(Ticket.number).where(Ticket.id == ticket.merged_into_id)) \
        if ticket.merged_into_id else None
    dispute, extension = pending_requests(session, actor, ticket)
    flag = None if hidden else flags.active_flag(session, ticket.phone)
    entry = session.get(CatalogueEntry, ticket.catalogue_entry_id) if ticket.catalogue_entry_id else None
    allowed = allowed_actions(session, actor, ticket)
    # Only where 合并 is the actor's to take now (dispatch, the ticket just received).
    repeat_of = [p.as_dict() for p in repeats.repeats_of_ticket(session, ticket, days=repeat_days)] \
        if "merge" in allowed and not hidden else []
    view.update({
        # The dispatch catalogue entry the ticket was dispatched under, as it was then.
        "catalogue_entry": None if entry is None else {
            "code": entry.code, "path": f"{entry.level1}/{entry.level2}/{entry.level3}", "version": entry.version_id,
            "current": entry.retired_version_id is None},
        "unit_code": unit.code if unit else None,
        "overdue": lifecycle.is_overdue(ticket),
        "allowed_actions": allowed,
        "open_dispute": None if dispute is None else {
            "id": dispute.id, "reason": dispute.reason, "raised_at": api_time(dispute.raised_at)},
        "pending_extension": None if extension is None else {
            "id": extension.id, "days": extension.working_days, "reason": extension.reason,
            "requested_at": api_time(extension.requested_at)},
        "phone_flag": None if flag is None else {
            "reason": flag.reason, "flagged_by": flag.flagged_by, "flagged_at": api_time(flag.flagged_at),
            "flagged_by_name": flags.flagger_name(session, flag)},
        "raised_by": 1 + len(duplicates),
        "duplicates": duplicates,
        "merged_into": main,
        "repeat_of": repeat_of,
        "handover_to": ticket.handover_to,
        # The 回访 of another unit's answer is not for a unit the ticket has left.
        "rating": None if left else ticket.rating, "rating_channel": None if left else ticket.rating_channel,
        "follow_up_attempts": None if left else ticket.follow_up_attempts,
        "close_reason": None if left else ticket.close_reason,
        # The photos' metadata (not their bytes): each is fetched by its id on its own.
        "attachments": attachments.described(session, actor, ticket),
        # The citizen's picture-message photos not on the ticket (yet): each fetch under way or
        # given up, its attempts and last error, never its link; kept from a unit as the
        # citizen's photos and number are (a confidential ticket, one that has left it).
        "media_fetches": [] if hidden else media_fetches.described(session, ticket.id),
    })
    return view


def pending_requests(session: Session, actor: Actor, ticket: Ticket) -> tuple[Dispute | None, ExtensionRequest | None]:
    """The ticket's open 改派申请 and pending 延期申请 as the actor may see them: unit staff
    only their own unit's (not a sub-unit or a 协办 unit the parent's, nor a unit the ticket
    has left the next one's)."""
    dispute = disputes.open_dispute(session, ticket)
    extension = queries.pending_extension_of(session, ticket.id)
    if actor.role is Role.UNIT_STAFF:
        dispute = dispute if dispute is not None and dispute.unit_id == actor.unit_id else None
        extension = extension if extension is not None and extension.unit_id == actor.unit_id else None
    return dispute, extension


def similar_for(session: Session, actor: Actor, number: str, *, days: int,
                places: Places | None = None, index: GramIndex | None = None) -> list[dict[str, object]]:
    """Open tickets like this one, best first. Unit staff see only those they may see
    anyway, and no confidential ones (their titles may name the citizen), nor ones that have
    left their unit."""
    ticket = visible_ticket(session, actor, number)
    found = similarity.similar_to_ticket(session, ticket, days=days, places=places, index=index)
    if actor.role is Role.UNIT_STAFF and found:
        rows = {t.number: t for t in session.scalars(select(Ticket).where(
            Ticket.number.in_([s.number for s in found])))}
        left = left_of(session, actor, [t.id for t in rows.values()])   # seen as 保密 ones are
        found = [s for s in found if not rows[s.number].confidential and rows[s.number].id not in left
                 and may_see(session, actor, rows[s.number])]
    return [s.as_dict() for s in found]
