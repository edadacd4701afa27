"""What a citizen reads of their ticket: a unit's return is work in progress, not a refusal;
a close is a close, whatever led to it."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.public import public_view
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from web.pages.labels import public_action_label


def test_a_returned_ticket_reads_as_being_dispatched_again(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    lifecycle.return_ticket(session, ticket, unit_staff(session, "housing"), "不属于本单位")
    view = public_view(session, ticket)
    assert view["state_label"] == "重新派单中" and view["timeline"][-1]["state_label"] == "重新派单中"
    assert [public_action_label(e["action"]) for e in view["timeline"]][-1] == "重新派单"
    assert public_action_label("close") == "已关闭"
