"""Open311 in the domain: client keys kept as hashes, the address read with the text so the
gazetteer finds the township, and the status buckets."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import open311, open311_keys
from dispatch.api_tokens import token_hash
from dispatch.errors import PermissionDenied, Reason
from dispatch.intake import IntakeRules
from dispatch.limits import Limits
from dispatch.models import Open311Client
from dispatch.open311_services import current_services
from dispatch.routing import city_router
from dispatch.states import FINISHED_STATES, State
from dispatch.units import City


def test_a_key_is_kept_only_as_its_hash_and_ends_when_revoked(session: Session) -> None:
    row, raw = open311_keys.create(session, "随手拍")
    stored = session.scalar(select(Open311Client.key_hash).where(Open311Client.id == row.id))
    assert stored == token_hash(raw) and raw not in stored
    assert open311_keys.authenticate(session, raw).id == row.id
    assert row.last_used_at is not None
    open311_keys.revoke(session, row.id)
    first = row.revoked_at
    open311_keys.revoke(session, row.id)
    assert row.revoked_at == first
    for given, reason in ((raw, Reason.API_KEY_INVALID), ("", Reason.API_KEY_MISSING),
                          ("guess", Reason.API_KEY_INVALID)):
        with pytest.raises(PermissionDenied) as refused:
            open311_keys.authenticate(session, given)
        assert refused.value.reason is reason


def test_the_address_goes_through_the_gazetteer(session: Session, units: City, small_model) -> None:  # type: ignore[no-untyped-def]
    client, _ = open311_keys.create(session, "随手拍")
    code = next(s.code for s in current_services(session, units) if s.name == "城乡建设")
    router = city_router(units, small_model, min_confidence=0.0)
    receipt = open311.submit(session, client, open311.Submission(
        service_code=code, description="小区门口的道路塌陷了一个大坑，下雨天积水很深，请尽快修复。",
        address_string="王屋镇愚公村村委会东侧"), city=units, rules=IntakeRules(), router=router, limits=Limits())
    from dispatch.public import ticket_by_number

    ticket = ticket_by_number(session, receipt.service_request_id)
    assert ticket.routing is not None and "王屋镇" in ticket.routing["places"]
    # The body itself is what the citizen wrote, the address kept as the ticket's location.
    assert "王屋镇" not in ticket.body and ticket.location == "王屋镇愚公村村委会东侧"


def test_open_and_closed_follow_the_finished_states() -> None:
    closed = {s for s in State if s.value in open311._FINISHED}
    assert closed == set(FINISHED_STATES)
    assert State.REOPENED not in closed and State.RESOLVED in closed
