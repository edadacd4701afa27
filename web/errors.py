"""The one place where exceptions become HTTP: JSON under /api, a short page elsewhere."""
from __future__ import annotations

import html
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from dispatch.errors import (
    Conflict,
    DispatchError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)

log = logging.getLogger(__name__)

STATUS = {InvalidInput: 422, NotFound: 404, PermissionDenied: 403, IllegalTransition: 409, Conflict: 409,
          RateLimited: 429}


class BadRequest(InvalidInput):
    """Input malformed before it reaches the domain (not JSON, a field of the wrong type)."""


def _respond(request: Request, status: int, code: str, message: str, extra: dict | None = None,
             headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": code, "message": message, **(extra or {})}, status_code=status,
                            headers=headers)
    page = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{status}</title>"
            f"<h1>{status}</h1><p>{html.escape(message)}</p><p><a href='/'>返回首页</a></p></html>")
    return HTMLResponse(page, status_code=status, headers=headers)


async def dispatch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DispatchError)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
    extra: dict = {}
    if isinstance(exc, InvalidInput):
        extra["field"] = exc.field
    if isinstance(exc, IllegalTransition):
        extra.update(state=exc.state, action=exc.action)
    headers = None
    if isinstance(exc, RateLimited):
        extra["retry_after"] = exc.retry_after
        headers = {"Retry-After": str(exc.retry_after)}
    return _respond(request, status, exc.code, exc.message, extra, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _respond(request, exc.status_code, "http_error", exc.detail, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"event": "server_error", "path": request.url.path})
    return _respond(request, 500, "server_error", "internal error; it has been logged")


HANDLERS = {DispatchError: dispatch_error, HTTPException: http_error, Exception: server_error}
