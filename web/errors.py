"""The one place where exceptions become HTTP: JSON under /api, the Open311 spec's errors
under /open311, the site's error page elsewhere; the words come from web/messages.py."""
from __future__ import annotations

import html
import logging

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from dispatch.db import storage_fault
from dispatch.errors import (
    Conflict,
    DispatchError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Reason,
    StorageUnavailable,
)
from web import open311_format
from web.messages import BACK_HOME, BACK_TO_CONSOLE, HOTLINE_NAME, describe, http_message, http_title

log = logging.getLogger(__name__)


class BadRequest(InvalidInput):
    """Input malformed before it reaches the domain (not JSON, a field of the wrong type)."""


class TooLarge(BadRequest):
    """A request body past its limit (web/body_limit.py)."""


class UnsupportedEncoding(BadRequest):
    """A body in a character set the hotline does not read, or not in the one it declares."""


class Unauthorized(DispatchError):
    """No valid bearer token: missing, unknown, expired, revoked, or its user deactivated."""

    code = "unauthorized"


STATUS = {TooLarge: 413, UnsupportedEncoding: 415, InvalidInput: 422, NotFound: 404, PermissionDenied: 403,
          IllegalTransition: 409, Conflict: 409,
          StorageUnavailable: 503, RateLimited: 429, Unauthorized: 401}


def status_of(exc: DispatchError) -> int:
    return next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)


def _respond(request: Request, status: int, code: str, message: str, extra: dict | None = None,
             headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/open311/"):
        return open311_format.error_response(request.url.path, status, message, headers)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": code, "message": message, **(extra or {})}, status_code=status,
                            headers=headers)
    return error_page(request, status, message, headers)


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The site's own page (header, navigation, a way back) with the Chinese words."""
    site = getattr(request.app.state, "site", None) if "app" in request.scope else None
    back, back_label = _way_back(request)
    context = {"status": status, "title": http_title(status), "message": message,
               "back": back, "back_label": back_label}
    if site is not None:
        try:
            return site.render(request, "error.html", context, status, headers=headers)
        except Exception:  # a page that cannot be drawn (the database is down) still answers
            log.exception("error page could not be rendered", extra={"event": "error_page_failed"})
    return HTMLResponse(_bare_page(context), status_code=status, headers=headers)


def _way_back(request: Request) -> tuple[str, str]:
    """Staff go back to their console, everyone else to the home page."""
    from web.pages.labels import ROLE_HOME  # web.pages imports this module as it loads

    user = getattr(request.state, "user", None)
    role = getattr(getattr(user, "role", None), "value", None)
    if role in ROLE_HOME:
        return ROLE_HOME[role], BACK_TO_CONSOLE
    return "/", BACK_HOME


def _bare_page(context: dict) -> str:
    """Without the site (before the lifespan started it, or when rendering failed): the
    same words on a plain page that still carries the stylesheet."""
    title, message = html.escape(context["title"]), html.escape(context["message"])
    return ("<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title} - 12345 {HOTLINE_NAME}</title><link rel='stylesheet' href='/static/app.css'></head>"
            f"<body><header class='top'><a class='brand' href='/'><span class='brand-num'>12345</span> {HOTLINE_NAME}</a>"
            f"</header><main class='page'><section class='error-page'><p class='error-status'>{context['status']}</p>"
            f"<h1>{title}</h1><p>{message}</p><p><a class='button' href='{context['back']}'>{context['back_label']}</a>"
            "</p></section></main></body></html>")


async def dispatch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DispatchError)
    if isinstance(exc, StorageUnavailable):
        return storage_unavailable(request, exc)
    status = status_of(exc)
    extra: dict = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        extra["field"] = exc.field
    if isinstance(exc, IllegalTransition):
        extra.update(state=exc.state, action=exc.action)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="hotline", error="invalid_token"'
    if isinstance(exc, RateLimited):
        extra["retry_after"] = exc.retry_after
        headers["Retry-After"] = str(exc.retry_after)
    if exc.reason is not None:
        extra["reason"] = exc.reason.value
    message = describe(exc)
    if message != exc.message and exc.reason is not None:
        extra["detail"] = _detail(exc, exc.reason)
    return _respond(request, status, exc.code, message, extra, headers)


def _detail(exc: DispatchError, reason: Reason) -> str:
    """The reason code, after the field it concerns: never its data, which may name an internal
    account (actor='housing') or be a Python repr; the logs keep exc.message whole."""
    return f"{exc.field}: {reason.value}" if isinstance(exc, InvalidInput) else reason.value


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _respond(request, exc.status_code, "http_error", http_message(exc.status_code, exc.detail),
                    headers=exc.headers)


def storage_unavailable(request: Request, exc: StorageUnavailable) -> Response:
    """503 with Retry-After: the write was refused as a whole and the same request will work."""
    log.error("database cannot take writes", extra={"event": "storage_unavailable", "reason": exc.reason,
                                                    "detail": exc.detail, "path": request.url.path})
    health = getattr(request.app.state, "health", None)
    if health is not None:
        health.write_failed(exc)
    return _respond(request, 503, exc.code, describe(exc), {"reason": exc.reason},
                    headers={"Retry-After": str(exc.retry_after)})


async def database_error(request: Request, exc: Exception) -> Response:
    return await server_error(request, exc)


async def server_error(request: Request, exc: Exception) -> Response:
    fault = storage_fault(exc)  # a driver error raised outside a statement (BEGIN, COMMIT)
    if fault is not None:
        return storage_unavailable(request, fault)
    log.exception("unhandled error", extra={"event": "server_error", "path": request.url.path})
    return _respond(request, 500, "server_error", http_message(500))


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client went away while its body was being read (a phone losing signal mid-upload):
    nobody to answer, and nothing wrong here, so one info line and no traceback. The empty
    answer goes nowhere (the server drops what is sent on a closed connection); the metrics
    count it as a 400, the request having never arrived whole."""
    log.info("client disconnected", extra={"event": "client_disconnected", "method": request.method,
                                           "path": request.url.path})
    return Response(status_code=400)


HANDLERS = {ClientDisconnect: client_gone, DispatchError: dispatch_error, HTTPException: http_error,
            DBAPIError: database_error,
            Exception: server_error}
