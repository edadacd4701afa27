"""API keys of Open311 clients (civic apps, mini-programs): 32 random bytes given to the
client once, kept only as their SHA-256, as the staff API's tokens are. A key is needed to
file a request; reading the public requests needs none, as the GeoReport v2 spec has it.
Keys end when revoked; none is ever deleted (submissions point at their client)."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import staff_activity
from dispatch.actors import Actor
from dispatch.api_tokens import USE_RESOLUTION, token_hash
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import Open311Client
from dispatch.staff_admin import require_admin

MAX_NAME_CHARS = 100


def create(session: Session, name: str, *, now: dt.datetime | None = None) -> tuple[Open311Client, str]:
    """A new client; returns the row and its key, which is never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", Reason.REQUIRED)
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput("name", Reason.TOO_LONG, limit=MAX_NAME_CHARS)
    raw = secrets.token_urlsafe(32)
    row = Open311Client(name=name, key_hash=token_hash(raw), created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row, raw


def issue(session: Session, actor: Actor, name: str) -> tuple[Open311Client, str]:
    """A key an administrator makes for a civic app (the admin page, `hotline open311 keys
    create`), kept in the staff activity log; the row and the key, shown once."""
    require_admin(actor)
    row, raw = create(session, name)
    staff_activity.record(session, staff_activity.ActivityKind.TOKEN_CREATED, actor, target=f"open311:{row.id}",
                          detail={"name": row.name})
    return row, raw


def end(session: Session, actor: Actor, client_id: int) -> Open311Client:
    """Revoke a client's key at once, in the staff activity log."""
    require_admin(actor)
    client = revoke(session, client_id)
    staff_activity.record(session, staff_activity.ActivityKind.TOKEN_REVOKED, actor, target=f"open311:{client_id}")
    return client


def authenticate(session: Session, raw: str | None, *, now: dt.datetime | None = None) -> Open311Client:
    """The live client holding this key; PermissionDenied (403, as the spec says) if the key
    is missing, unknown or revoked, with no hint which."""
    if not raw:
        raise PermissionDenied(Reason.API_KEY_MISSING)
    client = session.scalar(select(Open311Client).where(Open311Client.key_hash == token_hash(raw)))
    if client is None or client.revoked_at is not None:
        raise PermissionDenied(Reason.API_KEY_INVALID)
    now = now or utcnow()
    if client.last_used_at is None or now - client.last_used_at >= USE_RESOLUTION:
        client.last_used_at = now
    return client


def revoke(session: Session, client_id: int, *, now: dt.datetime | None = None) -> Open311Client:
    """End a client's key; revoking twice keeps the first moment."""
    client = session.get(Open311Client, client_id)
    if client is None:
        raise NotFound(Reason.CLIENT_NOT_FOUND, client_id=client_id)
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        session.flush()
    return client


def all_clients(session: Session) -> list[Open311Client]:
    """Every client, newest first (`hotline open311 keys list`, the admin page)."""
    return list(session.scalars(select(Open311Client).order_by(Open311Client.id.desc())))
