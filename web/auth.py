"""Staff sessions, CSRF tokens, the client's address and rate limits for the pages.

A session is a row in the database (dispatch/staff_sessions.py); a signed cookie
(HOTLINE_SECRET_KEY, itsdangerous) carries its random id, the user's id, the moment of
login, the CSRF token of the session and the operator's phone (agent interface). The row is
read on every request: a session ends after `idle_timeout` without a request and `max_age`
after login, whichever is first, and at once when revoked (logout, new password,
deactivated account).

Every form carries a CSRF token: the session's when logged in, else that of a signed
anonymous cookie. Cookies are HttpOnly and SameSite=Lax, and Secure over https (or when
HOTLINE_PUBLIC_URL is https, behind a TLS proxy).
"""
from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable

from itsdangerous import BadData, BadSignature, Signer, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dispatch import kept_forms, staff_notices, staff_sessions
from dispatch.actors import SUPERVISING_ROLES, Actor
from dispatch.models import StaffUser, Unit
from dispatch.vocabulary import Role
from web.inputs import refuse_unstorable
from web.messages import CSRF_FAILED, LOGIN_REQUIRED, ROLE_FORBIDDEN

SESSION_COOKIE = "hotline_session"
CSRF_COOKIE = "hotline_csrf"
CSRF_FIELD = "csrf_token"
# The status page's last lookup: number and query code kept here, for /status only, so that
# neither stands in an address (the browser's history, a shared computer's address bar).
LOOKUP_COOKIE = "hotline_lookup"
LOOKUP_SECONDS = 15 * 60

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthSettings:
    idle_timeout: dt.timedelta = dt.timedelta(hours=2)
    max_age: dt.timedelta = dt.timedelta(hours=12)
    # Re-issue the cookie (sliding the idle timeout) at most this often.
    refresh_after: dt.timedelta = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class SessionData:
    session_id: str
    user_id: int
    csrf: str
    login_at: float
    agent: str | None = None


@dataclass(frozen=True)
class StaffIdentity:
    """The logged-in staff member, as read from the database on this request."""

    id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None
    unit_name: str | None

    @property
    def actor(self) -> Actor:
        return Actor(label=self.username, user_id=self.id, role=self.role, unit_id=self.unit_id)


def identity_of_session(session: Session, data: SessionData, settings: AuthSettings) -> StaffIdentity | None:
    """The staff member whose live session this is, or None (revoked, expired, deactivated)."""
    found = staff_sessions.identify(session, data.session_id, idle_timeout=settings.idle_timeout,
                                    max_age=settings.max_age)
    if found is None or found.user_id != data.user_id:
        return None
    return StaffIdentity(found.user_id, found.username, found.display_name or found.username, Role(found.role),
                         found.unit_id, found.unit_name)


def stream_alive(request: Request) -> Callable[[], Awaitable[bool]]:
    """For a staff page's event stream (after staff_only let it in): whether its session still
    holds, for the same account with the same role and unit. One lookup by the session's id,
    leaving its last-seen time as it is; a failed lookup ends the stream too (the page
    reconnects and is checked afresh)."""
    site, user = request.app.state.site, request.state.user
    data = site.auth.session(request)
    started = (user.id, user.role.value, user.unit_id)

    def check(session: Session) -> bool:
        found = staff_sessions.identify(session, data.session_id, idle_timeout=site.auth.settings.idle_timeout,
                                        max_age=site.auth.settings.max_age, touch=False)
        return found is not None and (found.user_id, found.role, found.unit_id) == started

    async def alive() -> bool:
        if data is None:
            return False
        try:
            return await request.app.state.services.read(check)
        except Exception:   # the database unreachable: end rather than keep sending unchecked
            log.warning("stream session check failed", exc_info=True)
            return False

    return alive


def load_identity(session: Session, user_id: int) -> StaffIdentity | None:
    row = session.execute(select(StaffUser, Unit.name).outerjoin(Unit, Unit.id == StaffUser.unit_id)
                          .where(StaffUser.id == user_id)).first()
    if row is None or not row[0].active:
        return None
    user, unit_name = row
    return StaffIdentity(user.id, user.username, user.display_name or user.username, Role(user.role),
                         user.unit_id, unit_name)


class Auth:
    """Reads and writes the session and CSRF cookies; built once per app from the secret."""

    def __init__(self, secret_key: str, settings: AuthSettings | None = None,
                 clock: Callable[[], float] = time.time, *, secure: bool = False) -> None:
        self.settings = settings or AuthSettings()
        self._secure = secure
        self._sessions = URLSafeTimedSerializer(secret_key, salt="hotline.session")
        self._anonymous = Signer(secret_key, salt="hotline.csrf")
        self._lookups = URLSafeTimedSerializer(secret_key, salt="hotline.lookup")
        self._clock = clock

    # -- sessions ---------------------------------------------------------------------------

    def session(self, request: Request) -> SessionData | None:
        """The valid session of this request, or None (absent, forged, idle or too old)."""
        if "hotline_session_data" in request.scope:
            return request.scope["hotline_session_data"]  # type: ignore[no-any-return]
        data = self._read_session(request)
        request.scope["hotline_session_data"] = data
        return data

    def _read_session(self, request: Request) -> SessionData | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            payload, issued = self._sessions.loads(raw, max_age=int(self.settings.idle_timeout.total_seconds()),
                                                   return_timestamp=True)
        except BadSignature:
            return None
        try:
            data = SessionData(session_id=str(payload["s"]), user_id=int(payload["u"]), csrf=str(payload["c"]),
                               login_at=float(payload["t"]), agent=payload.get("a"))
        except (KeyError, TypeError, ValueError):
            return None
        now = self._clock()
        if now - data.login_at > self.settings.max_age.total_seconds():
            return None
        request.scope["hotline_session_issued"] = issued.timestamp()
        return data

    def login(self, request: Request, response: Response, user_id: int, session_id: str) -> SessionData:
        """Start a fresh session (a new CSRF token too: nothing from before login carries over);
        the session's row was created by the caller (staff_sessions.create)."""
        data = SessionData(session_id=session_id, user_id=user_id, csrf=secrets.token_urlsafe(32),
                           login_at=self._clock())
        self._write(request, response, data)
        return data

    def update(self, request: Request, response: Response, **changes: Any) -> None:
        data = self.session(request)
        if data is not None:
            self._write(request, response, replace(data, **changes))

    def refresh(self, request: Request, response: Response) -> None:
        """Slide the idle timeout forward, at most once every `refresh_after`."""
        data = self.session(request)
        issued = request.scope.get("hotline_session_issued")
        if data is not None and issued is not None and \
                self._clock() - issued > self.settings.refresh_after.total_seconds():
            self._write(request, response, data)

    def forget(self, request: Request) -> None:
        """From here on this request has no session (a page rendered next gets the anonymous
        CSRF token, which its forms then carry)."""
        request.scope["hotline_session_data"] = None

    def logout(self, request: Request, response: Response) -> None:
        self.forget(request)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")

    def _write(self, request: Request, response: Response, data: SessionData) -> None:
        value = self._sessions.dumps({"s": data.session_id, "u": data.user_id, "c": data.csrf,
                                      "t": data.login_at, "a": data.agent})
        response.set_cookie(SESSION_COOKIE, value, max_age=int(self.settings.idle_timeout.total_seconds()),
                            path="/", httponly=True, samesite="lax", secure=self.secure(request))
        request.scope["hotline_session_data"] = data

    def secure(self, request: Request) -> bool:
        return self._secure or request.url.scheme == "https"

    # -- the status page's lookup -----------------------------------------------------------

    def remember_lookup(self, request: Request, response: Response, number: str, code: str, *,
                        rated: bool = False) -> None:
        value = self._lookups.dumps({"n": number, "c": code, "r": rated})
        # A browser-session cookie (gone when the browser closes: the next person at a shared
        # computer does not find the ticket); the signature's time bounds it to LOOKUP_SECONDS.
        response.set_cookie(LOOKUP_COOKIE, value, path="/status", httponly=True, samesite="lax",
                            secure=self.secure(request))

    def recalled_lookup(self, request: Request) -> tuple[str, str, bool] | None:
        """(number, code, just rated) of the last lookup, or None (absent, forged, too old)."""
        raw = request.cookies.get(LOOKUP_COOKIE)
        if not raw:
            return None
        try:
            payload = self._lookups.loads(raw, max_age=LOOKUP_SECONDS)
            return str(payload["n"]), str(payload["c"]), bool(payload["r"])
        except (BadData, KeyError, TypeError):
            return None

    def forget_lookup(self, response: Response) -> None:
        response.delete_cookie(LOOKUP_COOKIE, path="/status", httponly=True, samesite="lax")

    # -- CSRF -------------------------------------------------------------------------------

    def csrf_token(self, request: Request) -> str:
        """The token forms on this page carry; a new anonymous one is set by `attach`."""
        data = self.session(request)
        if data is not None:
            return data.csrf
        token = self._anonymous_token(request)
        if token is None:
            token = request.scope.get("hotline_new_csrf") or secrets.token_urlsafe(32)
            request.scope["hotline_new_csrf"] = token
        return token

    def _anonymous_token(self, request: Request) -> str | None:
        raw = request.cookies.get(CSRF_COOKIE)
        if not raw:
            return None
        try:
            return self._anonymous.unsign(raw).decode()
        except BadSignature:
            return None

    def attach(self, request: Request, response: Response) -> Response:
        """Set the anonymous CSRF cookie if this page made one."""
        token = request.scope.get("hotline_new_csrf")
        if token and self.session(request) is None:
            response.set_cookie(CSRF_COOKIE, self._anonymous.sign(token).decode(), path="/", httponly=True,
                                samesite="lax", secure=self.secure(request))
        return response

    def check_csrf(self, request: Request, form: FormData) -> None:
        given = form.get(CSRF_FIELD)
        data = self.session(request)
        expected = data.csrf if data is not None else self._anonymous_token(request)
        # As bytes: compare_digest refuses str with characters outside ASCII (a TypeError, a 500).
        if not isinstance(given, str) or expected is None or \
                not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(403, CSRF_FAILED)


async def checked_form(request: Request, *, max_files: int = 0) -> FormData:
    """The posted form, after its CSRF token was checked; no files unless the page takes them."""
    form = await request.form(max_files=max_files, max_fields=50)
    request.app.state.site.auth.check_csrf(request, form)
    refuse_unstorable(form.multi_items())
    return form


def client_key(request: Request) -> str:
    """The client's address, for every per-address limit. X-Forwarded-For is believed only
    when the peer is a trusted proxy (HOTLINE_TRUSTED_PROXIES), and then only as far as the
    chain of trusted proxies goes: the right-most address that is not one of them is the
    client (anything left of it was written by the client and may be forged)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.services.settings.trusted_proxies
    return client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Any, ...]) -> str:
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return client  # garbage where an address should be: stop at the last one known
        client = str(address)
        if not _is_trusted(client, trusted):
            return client
    return client


def _is_trusted(address: str, trusted: tuple[Any, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


Endpoint = Callable[[Request], Awaitable[Response]]


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def _kept_view(session: Session, token: str, user_id: int) -> dict[str, Any] | None:
    kept = kept_forms.claimed(session, token, user_id)
    if kept is None:
        return None
    # A form the ticket page refused also says why (web/pages/tickets.py fills it in itself).
    return {"action": kept.action, "fields": dict(kept.fields), **({"error": kept.error} if kept.error else {})}


# A page's first reads, given the request and its staff member (allowed on the page).
Reads = Callable[[Request, StaffIdentity, Session], Any]


def staff_only(endpoint: Endpoint, roles: frozenset[Role], *, max_files: int = 0, reads: Reads | None = None) -> Endpoint:
    """Wrap a page for the given roles: anonymous visitors go to the login page, other roles
    get 403, and every POST has its CSRF token checked before the page sees it. `reads`: what
    a GET of the page reads first, done in the session that checks the staff session (one
    thread hop less) and handed to the page as request.state.reads."""

    async def guarded(request: Request) -> Response:
        site = request.app.state.site
        data = site.auth.session(request)
        user, early, unread = None, None, None
        if data is not None:
            first = reads if request.method == "GET" and "kept" not in request.query_params else None
            # A page a person opens (not a panel's fetch, nor a stream) shows a supervisor's
            # unread notices in its header.
            counted = request.method == "GET" and "text/html" in request.headers.get("accept", "")

            def check(session: Session) -> tuple[StaffIdentity | None, Any, Any]:
                found = identity_of_session(session, data, site.auth.settings)
                if found is None or found.role not in roles:
                    return found, None, None
                count = staff_notices.unread(session, found.actor) \
                    if counted and found.role in SUPERVISING_ROLES else None
                return found, first(request, found, session) if first is not None else None, count

            user, early, unread = await request.app.state.services.read(check)
        if user is None:
            if request.method == "GET" and request.headers.get("accept") != "text/event-stream":
                from urllib.parse import quote

                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response: Response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            elif request.method == "POST" and _is_form(request):
                from web.pages.kept import session_expired  # the pages build on this module

                return await session_expired(request)
            else:
                raise HTTPException(401, LOGIN_REQUIRED)
            site.auth.logout(request, response)
            return response
        request.state.user = user   # also for the 403 page: its header shows who is logged in
        if user.role not in roles:
            raise HTTPException(403, ROLE_FORBIDDEN)
        request.state.reads = early
        request.state.nav_unread = unread
        if request.method == "POST":
            try:
                request.state.form = await checked_form(request, max_files=max_files)
            except HTTPException as refused:  # a CSRF token older than the session
                from web.pages.kept import stale_form

                back = await stale_form(request, user.id) if refused.status_code == 403 else None
                if back is None:
                    raise
                return back
        elif "kept" in request.query_params:
            # Back from a login that an expired session forced: the form's typed fields.
            token = request.query_params["kept"]
            kept = await request.app.state.services.run(lambda s: _kept_view(s, token, user.id))
            request.state.kept_form = kept
        response = await endpoint(request)
        site.auth.refresh(request, response)
        return response

    guarded.__name__ = getattr(endpoint, "__name__", "guarded")
    guarded.__doc__ = endpoint.__doc__
    return guarded
