"""Bearer tokens: stored hashed, ended by expiry, revocation or the user's deactivation."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import api_tokens
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import ApiToken, StaffUser
from dispatch.staff import create_user
from dispatch.vocabulary import Role

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def user(session: Session, units: object) -> StaffUser:
    return create_user(session, "housing-system", "long enough password", Role.UNIT_STAFF, unit_code="housing")


def test_only_the_hash_is_kept(session: Session, user: StaffUser) -> None:
    row, raw = api_tokens.create(session, user, "住建局业务系统", lifetime=None, now=NOW)
    assert len(raw) >= 43 and raw not in {row.token_hash, row.name}
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    found = api_tokens.authenticate(session, raw, now=NOW)
    assert found is not None and (found.token_id, found.user_id) == (row.id, user.id)
    assert row.last_used_at == NOW
    assert api_tokens.authenticate(session, raw[:-1] + ("x" if raw[-1] != "x" else "y"), now=NOW) is None
    assert api_tokens.authenticate(session, "", now=NOW) is None


def test_a_token_ends_when_it_expires(session: Session, user: StaffUser) -> None:
    row, raw = api_tokens.create(session, user, "api", lifetime=dt.timedelta(hours=12), now=NOW)
    assert row.expires_at == NOW + dt.timedelta(hours=12)
    assert api_tokens.authenticate(session, raw, now=NOW + dt.timedelta(hours=11)) is not None
    assert api_tokens.authenticate(session, raw, now=NOW + dt.timedelta(hours=12)) is None


def test_revoked_tokens_and_deactivated_users_are_out(session: Session, user: StaffUser) -> None:
    row, raw = api_tokens.create(session, user, "api", lifetime=None, now=NOW)
    other, other_raw = api_tokens.create(session, user, "api 2", lifetime=None, now=NOW)
    api_tokens.revoke(session, row.id, now=NOW)
    api_tokens.revoke(session, row.id, now=NOW + dt.timedelta(hours=1))
    assert row.revoked_at == NOW
    assert api_tokens.authenticate(session, raw, now=NOW) is None
    assert api_tokens.authenticate(session, other_raw, now=NOW) is not None
    user.active = False
    session.flush()
    assert api_tokens.authenticate(session, other_raw, now=NOW) is None
    with pytest.raises(NotFound):
        api_tokens.revoke(session, 9999)


def test_last_use_is_written_at_most_once_a_minute(session: Session, user: StaffUser) -> None:
    row, raw = api_tokens.create(session, user, "api", lifetime=None, now=NOW)
    api_tokens.authenticate(session, raw, now=NOW)
    api_tokens.authenticate(session, raw, now=NOW + dt.timedelta(seconds=30))
    assert row.last_used_at == NOW
    api_tokens.authenticate(session, raw, now=NOW + dt.timedelta(minutes=2))
    assert row.last_used_at == NOW + dt.timedelta(minutes=2)


def test_a_token_needs_a_name_and_an_active_user(session: Session, user: StaffUser) -> None:
    with pytest.raises(InvalidInput) as caught:
        api_tokens.create(session, user, "  ", lifetime=None)
    assert caught.value.field == "token_name"
    user.active = False
    with pytest.raises(InvalidInput):
        api_tokens.create(session, user, "api", lifetime=None)
    assert session.scalars(select(ApiToken)).all() == []
