"""Bearer tokens for the staff API: POST /api/v1/auth/token trades a user name and password
(argon2, rate limited like the login page) for a token; DELETE revokes the token used.
`bearer_only` guards the staff routes. The session cookie is never read here: these routes
are not cookie-authenticated, which is also why they need no CSRF token."""
from __future__ import annotations

import datetime as dt
import logging

import anyio
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch import api_tokens, limits, staff, staff_activity
from dispatch.clock import api_time, utcnow
from dispatch.errors import RateLimited, Reason
from dispatch.vocabulary import Role
from web.api import read_json_object
from web.auth import Endpoint, StaffIdentity, client_key, load_identity, staff_only
from web.errors import BadRequest, Unauthorized
from web.messages import ROLE_FORBIDDEN
from web.services import Services

log = logging.getLogger(__name__)
TOKEN_NAME = "POST /api/v1/auth/token"


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def bearer_only(endpoint: Endpoint) -> Endpoint:
    """The route runs with request.state.user (read from the user row now, so a deactivated
    user is out at once) and request.state.token_id; anything else is 401."""

    async def guarded(request: Request) -> Response:
        raw = bearer_token(request)
        if raw is None:
            raise Unauthorized(Reason.TOKEN_MISSING)
        services: Services = request.app.state.services

        def identify(session: Session) -> tuple[int, StaffIdentity] | None:
            found = api_tokens.authenticate(session, raw)
            user = None if found is None else load_identity(session, found.user_id)
            return None if found is None or user is None else (found.token_id, user)

        identified = await services.run(identify)
        if identified is None:
            raise Unauthorized(Reason.TOKEN_INVALID)
        request.state.token_id, request.state.user = identified
        return await endpoint(request)

    guarded.__name__ = getattr(endpoint, "__name__", "guarded")
    guarded.__doc__ = endpoint.__doc__
    return guarded


def session_or_bearer(page: Endpoint, roles: frozenset[Role]) -> Endpoint:
    """A GET page a staff API token may read too (the CSV exports, for a unit's or the city's
    scripts): with an `Authorization: Bearer` header the token decides, with the page's roles;
    without one, the browser session as on every page (staff_only)."""
    by_session = staff_only(page, roles)

    async def by_role(request: Request) -> Response:
        if request.state.user.role not in roles:
            raise HTTPException(403, ROLE_FORBIDDEN)
        return await page(request)
    by_token = bearer_only(by_role)

    async def guarded(request: Request) -> Response:
        return await (by_token if bearer_token(request) is not None else by_session)(request)

    guarded.__name__ = getattr(page, "__name__", "guarded")
    guarded.__doc__ = page.__doc__
    return guarded


def _credential(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(name, Reason.REQUIRED)
    return value[:limit]


async def issue_token(request: Request) -> Response:
    """The login page's three steps (attempt counted and hash read, argon2 outside the
    database lock, outcome recorded), ending in a token instead of a session."""
    site = request.app.state.site
    services: Services = request.app.state.services
    data = await read_json_object(request)
    username = _credential(data, "username", 80).strip()
    password = _credential(data, "password", 200)
    client, rules = client_key(request), services.settings.limits
    lifetime = dt.timedelta(hours=services.settings.api_token_hours)
    now = utcnow()  # one moment for the count and its giving back

    def read(session: Session):  # type: ignore[no-untyped-def]
        limits.count_login_attempt(session, rules, username, client, now)
        return staff.credentials(session, username)

    try:
        found = await services.run(read)
    except RateLimited as exc:
        log.warning("api login throttled", extra={"event": "api_login_throttled", "username": username,
                                                  "client": client})
        if exc.reason is Reason.ACCOUNT_LOCKED:
            await services.run(lambda s: limits.record_account_lock(s, rules, username, client, now, via="api"))
        raise
    check = await anyio.to_thread.run_sync(staff.verify_password, found, password, limiter=site.password_checks)

    def record(session: Session) -> tuple[str, dt.datetime | None] | None:
        user = staff.confirm_login(session, found, check) if found is not None else None
        if user is None:
            staff_activity.record_login_failure(session, username, client, via="api")
            return None
        limits.login_succeeded(session, rules, username, client, now)
        row, raw = api_tokens.create(session, user, TOKEN_NAME, lifetime=lifetime)
        staff_activity.record(session, staff_activity.ActivityKind.TOKEN_CREATED, staff.actor_for(user),
                              target=f"token:{row.id}", address=client, detail={"name": TOKEN_NAME})
        return raw, row.expires_at

    issued = await services.run(record)
    if issued is None:
        log.info("api login failed", extra={"event": "api_login_failed", "username": username, "client": client})
        raise Unauthorized(Reason.BAD_CREDENTIALS)
    log.info("api token issued", extra={"event": "api_token_issued", "username": username})
    token, expires_at = issued
    return JSONResponse({"token": token, "token_type": "Bearer",
                         "expires_at": api_time(expires_at) if expires_at else None})


async def revoke_token(request: Request) -> Response:
    services: Services = request.app.state.services
    token_id: int = request.state.token_id
    actor, client = request.state.user.actor, client_key(request)

    def revoke(session: Session) -> None:
        api_tokens.revoke(session, token_id)
        staff_activity.record(session, staff_activity.ActivityKind.TOKEN_REVOKED, actor, target=f"token:{token_id}",
                              address=client)

    await services.run(revoke)
    log.info("api token revoked", extra={"event": "api_token_revoked", "username": request.state.user.username})
    return JSONResponse({"revoked": True})


routes = [
    Route("/api/v1/auth/token", issue_token, methods=["POST"]),
    Route("/api/v1/auth/token", bearer_only(revoke_token), methods=["DELETE"]),
]
