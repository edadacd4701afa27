"""Staff login and logout. Passwords are checked by dispatch.staff.authenticate (argon2);
attempts are limited per client address and failures per user name."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dispatch.staff import authenticate
from web.auth import checked_form, client_key, load_identity, staff_only
from web.pages.labels import ROLE_HOME
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
                                                         "error": None, "username": ""})


async def login(request: Request) -> Response:
    site = _site(request)
    form = await checked_form(request)
    username = str(form.get("username") or "").strip()[:80]
    password = str(form.get("password") or "")[:200]
    target = _safe_next(str(form.get("next") or ""))
    context = {"next": target, "username": username, "error": None}
    client = client_key(request)
    per_client, per_user = site.limits.login_per_client, site.limits.login_failures_per_user
    if per_client.blocked(client) or per_user.blocked(username):
        wait = max(per_client.retry_after(client), per_user.retry_after(username))
        log.warning("login throttled", extra={"event": "login_throttled", "username": username, "client": client})
        context["error"] = f"登录尝试过于频繁，请 {wait} 秒后再试。"
        return site.render(request, "login.html", context, 429)
    per_client.hit(client)

    def check(session):  # type: ignore[no-untyped-def]
        user = authenticate(session, username, password)
        return None if user is None else load_identity(session, user.id)

    identity = await site.services.run(check)
    if identity is None:
        per_user.hit(username)
        log.info("login failed", extra={"event": "login_failed", "username": username, "client": client})
        context["error"] = "用户名或密码错误。"
        return site.render(request, "login.html", context, 401)
    per_user.reset(username)
    log.info("login", extra={"event": "login", "username": username})
    response = RedirectResponse(target or ROLE_HOME[identity.role.value], status_code=303)
    site.auth.login(request, response, identity.id)
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    _site(request).auth.logout(request, response)
    return response


async def staff_home(request: Request) -> Response:
    return RedirectResponse(ROLE_HOME[request.state.user.role.value], status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", staff_only(logout, ALL_STAFF), methods=["POST"]),
    Route("/staff", staff_only(staff_home, ALL_STAFF), methods=["GET"]),
]
