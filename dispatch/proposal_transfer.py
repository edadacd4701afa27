"""受理并转办: the operator's console files a ticket and, in the same transaction, transfers it
to one of the units routing proposed for it. The transfer is the ticket page's 转办 of that
suggestion (dispatch.actions.perform: the same checks, events, notices, learning and
routing feedback), so to the proposed unit it accepts the proposal and to another
suggestion it corrects it. Refused before anything changes when routing proposed no unit
(the model not ready, too little content), no longer proposes this one, or its unit is
missing or retired: the caller's transaction then files nothing either."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import actions
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, Reason
from dispatch.models import Ticket, Unit
from dispatch.vocabulary import MODEL_NOT_READY_ZH

FIELD = "transfer_to"


def proposed_units(routing: dict[str, Any] | None) -> dict[str, str | None]:
    """The units routing proposed, in the ticket page's order (the routed unit first, then the
    suggestions), each with the category it was proposed for (None for a rule's)."""
    routing = routing or {}
    found: dict[str, str | None] = {}
    if routing.get("unit_code"):
        found[str(routing["unit_code"])] = routing.get("category")
    for item in routing.get("suggestions") or ():
        if item.get("unit_code"):
            found.setdefault(str(item["unit_code"]), item.get("category"))
    return found


def check_proposed(session: Session, ticket: Ticket, unit_code: str) -> Unit:
    """The unit, when it is one routing proposed for the ticket and it can take tickets."""
    proposed = proposed_units(ticket.routing)
    if not proposed:
        raise InvalidInput(FIELD, Reason.NO_PROPOSAL, reason=(ticket.routing or {}).get("reason") or MODEL_NOT_READY_ZH)
    if unit_code not in proposed:
        raise InvalidInput(FIELD, Reason.NOT_PROPOSED, code=unit_code)
    return check_unit(session, unit_code, proposed[unit_code])


def check_unit(session: Session, unit_code: str, category: str | None) -> Unit:
    """The proposed unit, when it can take tickets: it exists (a category may name a unit the
    units table lacks) and is not retired."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise InvalidInput(FIELD, Reason.NO_UNIT_FOR_CATEGORY, category=category or "", code=unit_code)
    if not unit.active:
        raise InvalidInput(FIELD, Reason.INACTIVE_UNIT, unit=unit.name)
    return unit


def transfer_filed(session: Session, actor: Actor, ticket: Ticket, unit_code: str,
                   context: actions.ActionContext, *, category: str | None = None, joined: bool = False) -> bool:
    """Transfer the ticket just filed to the proposed unit `unit_code`, as the ticket page's
    suggestion button posts it (`category`: the catalogue entry that button carries). A
    repeat call joined to an open ticket that already went to a unit is not sent on again:
    False then (the operator sees that ticket and where it is)."""
    if joined and "transfer" not in actions.allowed_actions(session, actor, ticket):
        return False
    check_proposed(session, ticket, unit_code)
    params: dict[str, Any] = {"unit_code": unit_code, "source": "suggestion", "expected_version": ticket.version}
    if category:
        params["category"] = category
    actions.perform(session, actor, ticket.number, "transfer", params, context)
    return True
