"""The one place where exceptions become HTTP: JSON under /api, a short page elsewhere."""
from __future__ import annotations

import html
import logging

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
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
    StorageUnavailable,
)

log = logging.getLogger(__name__)

STATUS = {InvalidInput: 422, NotFound: 404, PermissionDenied: 403, IllegalTransition: 409, Conflict: 409,
          StorageUnavailable: 503, RateLimited: 429}

# What a person reads when the database cannot take writes: nothing was saved, come back.
STORAGE_MESSAGES_ZH = {
    "read_only": "系统数据库当前为只读状态，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
    "disk_full": "系统存储空间已满，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
    "unreachable": "系统数据库暂时无法连接，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
}
STORAGE_MESSAGE_ZH = "系统暂时无法保存数据，请稍后再试。紧急情况请拨打12345。"


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
    if isinstance(exc, StorageUnavailable):
        return storage_unavailable(request, exc)
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


def storage_unavailable(request: Request, exc: StorageUnavailable) -> Response:
    """503 with Retry-After: the write was refused as a whole and the same request will work."""
    log.error("database cannot take writes", extra={"event": "storage_unavailable", "reason": exc.reason,
                                                    "detail": exc.detail, "path": request.url.path})
    health = getattr(request.app.state, "health", None)
    if health is not None:
        health.write_failed(exc)
    message = STORAGE_MESSAGES_ZH.get(exc.reason, STORAGE_MESSAGE_ZH)
    return _respond(request, 503, exc.code, message, {"reason": exc.reason},
                    headers={"Retry-After": str(exc.retry_after)})


async def database_error(request: Request, exc: Exception) -> Response:
    return await server_error(request, exc)


async def server_error(request: Request, exc: Exception) -> Response:
    fault = storage_fault(exc)  # a driver error raised outside a statement (BEGIN, COMMIT)
    if fault is not None:
        return storage_unavailable(request, fault)
    log.exception("unhandled error", extra={"event": "server_error", "path": request.url.path})
    return _respond(request, 500, "server_error", "internal error; it has been logged")


HANDLERS = {DispatchError: dispatch_error, HTTPException: http_error, DBAPIError: database_error,
            Exception: server_error}
