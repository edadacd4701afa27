"""受理并转办's rules (dispatch/proposal_transfer.py): only a unit routing proposed for the
ticket, one that exists and is not retired; the transfer itself is the ticket page's."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actions import ActionContext
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, Reason
from dispatch.models import RoutingOutcome, Unit
from dispatch.proposal_transfer import proposed_units, transfer_filed
from dispatch.units import City
from tests.dispatch.helpers import new_ticket

MANUAL = {"unit_code": None, "source": "manual", "reason": "置信度低", "category": "城乡建设", "probability": 0.4,
          "suggestions": [{"unit_code": "housing", "category": "城乡建设", "probability": 0.4},
                          {"unit_code": "water", "category": "水务", "probability": 0.3}]}


def test_the_routed_unit_comes_first_then_the_suggestions() -> None:
    rule = {"unit_code": "water", "source": "rule", "category": None, "suggestions": []}
    assert proposed_units(rule) == {"water": None}
    assert list(proposed_units(MANUAL)) == ["housing", "water"]
    assert proposed_units(None) == {}


def test_the_first_suggestion_is_accepted_and_another_corrects(session: Session, units: City,
                                                                operator: Actor) -> None:
    accepted, corrected = new_ticket(session), new_ticket(session)
    for ticket in (accepted, corrected):
        ticket.routing = dict(MANUAL)
    session.flush()
    assert transfer_filed(session, operator, accepted, "housing", ActionContext())
    assert transfer_filed(session, operator, corrected, "water", ActionContext())
    assert accepted.state == corrected.state == "transferred"
    assert not session.get(RoutingOutcome, accepted.id).corrected  # type: ignore[union-attr]
    assert session.get(RoutingOutcome, corrected.id).corrected  # type: ignore[union-attr]


@pytest.mark.parametrize(("routing", "code", "reason"), [
    (None, "housing", Reason.NO_PROPOSAL),
    (MANUAL, "education", Reason.NOT_PROPOSED),
    ({**MANUAL, "suggestions": [{"unit_code": "gone", "category": "水务"}]}, "gone", Reason.NO_UNIT_FOR_CATEGORY),
    (MANUAL, "retired", Reason.INACTIVE_UNIT),
])
def test_a_unit_that_cannot_be_proposed_is_refused_before_anything_changes(
        session: Session, units: City, operator: Actor, routing: dict | None, code: str, reason: Reason) -> None:
    ticket = new_ticket(session)
    if code == "retired":
        housing = session.scalars(select(Unit).where(Unit.code == "housing")).one()
        housing.active = False
        code = "housing"
    ticket.routing = routing
    session.flush()
    with pytest.raises(InvalidInput) as refused:
        transfer_filed(session, operator, ticket, code, ActionContext())
    assert refused.value.reason is reason and ticket.state == "received" and ticket.transfer_count == 0
