"""Staff login and logout.

A login is three short steps so that the argon2 check (tens of milliseconds of CPU) holds no
database lock: count the attempt as a failure (in the database, per user name and address,
and per address) and read the stored hash, verify the password in a thread of its own, then
record the outcome (a session row and the attempt given back, or the failure logged).
Counting before the check keeps a burst of parallel guesses within the limit. Failures from
one address lock the user out elsewhere only once failures from all addresses together reach
the account's cap (HOTLINE_LOGIN_FAILURES_PER_USER)."""
from __future__ import annotations

import logging

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch import kept_forms, limits, staff, staff_activity, staff_sessions
from dispatch.clock import utcnow
from dispatch.errors import RateLimited, Reason
from web.auth import checked_form, client_key, load_identity, staff_only
from web.messages import describe, words
from web.pages.kept import page_with_token
from web.pages.labels import ROLE_HOME, SESSION_EXPIRED_KEPT
from web.pages.site import Site
from dispatch.vocabulary import Role

log = logging.getLogger(__name__)
ALL_STAFF = frozenset(Role)


def _safe_next(target: str | None) -> str | None:
    # Only paths of this site: never //evil.example or https://...
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def login_page(request: Request) -> Response:
    return _site(request).render(request, "login.html", {"next": _safe_next(request.query_params.get("next")),
                                                         "error": None, "username": "", "kept": None})


async def login(request: Request) -> Response:
    site = _site(request)
    form = await checked_form(request)
    username = str(form.get("username") or "").strip()[:80]
    password = str(form.get("password") or "")[:200]
    target = _safe_next(str(form.get("next") or ""))
    kept = str(form.get("kept") or "")[:64] or None  # a form kept when the session expired
    context = {"next": target, "username": username, "error": None, "kept": kept,
               "notice": SESSION_EXPIRED_KEPT if kept else None}
    client = client_key(request)
    rules = site.services.settings.limits
    now = utcnow()  # one moment for the count and its giving back

    def read(session):  # type: ignore[no-untyped-def]
        limits.count_login_attempt(session, rules, username, client, now)
        return staff.credentials(session, username)

    try:
        found = await site.services.run(read)
    except RateLimited as exc:
        log.warning("login throttled", extra={"event": "login_throttled", "username": username, "client": client})
        if exc.reason is Reason.ACCOUNT_LOCKED:
            await site.services.run(lambda s: limits.record_account_lock(s, rules, username, client, now))
        context["error"] = describe(exc)
        response = site.render(request, "login.html", context, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # Not through services.run: on SQLite that would hold the one database lock meanwhile.
    # One check at a time: argon2 takes all the CPU it is given, and a burst of guesses must
    # leave the other requests a core.
    check = await anyio.to_thread.run_sync(staff.verify_password, found, password, limiter=site.password_checks)

    def record(session):  # type: ignore[no-untyped-def]
        user = staff.confirm_login(session, found, check) if found is not None else None
        if user is None:
            staff_activity.record_login_failure(session, username, client)
            return None
        limits.login_succeeded(session, rules, username, client, now)
        staff_activity.record(session, staff_activity.ActivityKind.LOGIN, staff.actor_for(user), address=client)
        claimed = kept_forms.claim(session, kept, user.id) if kept else None
        back = page_with_token(claimed.page, claimed.token) if claimed is not None else None
        return load_identity(session, user.id), staff_sessions.create(session, user.id).id, back

    outcome = await site.services.run(record)
    if outcome is None:
        log.info("login failed", extra={"event": "login_failed", "username": username, "client": client})
        context["error"] = words(Reason.BAD_CREDENTIALS, {})
        return site.render(request, "login.html", context, 401)
    identity, session_id, back = outcome
    log.info("login", extra={"event": "login", "username": username})
    response = RedirectResponse(back or target or ROLE_HOME[identity.role.value], status_code=303)
    site.auth.login(request, response, identity.id, session_id)
    return response


async def logout(request: Request) -> Response:
    site = _site(request)
    data = site.auth.session(request)
    if data is not None:
        actor, client = request.state.user.actor, client_key(request)

        def end(session):  # type: ignore[no-untyped-def]
            staff_sessions.revoke(session, data.session_id)
            staff_activity.record(session, staff_activity.ActivityKind.LOGOUT, actor, address=client)

        await site.services.run(end)
        log.info("logout", extra={"event": "logout", "username": request.state.user.username})
    response = RedirectResponse("/login", status_code=303)
    site.auth.logout(request, response)
    return response


async def staff_home(request: Request) -> Response:
    return RedirectResponse(ROLE_HOME[request.state.user.role.value], status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", staff_only(logout, ALL_STAFF), methods=["POST"]),
    Route("/staff", staff_only(staff_home, ALL_STAFF), methods=["GET"]),
]
