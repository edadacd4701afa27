"""The one place where exceptions become HTTP: JSON under /api, a short page elsewhere."""
from __future__ import annotations

import html
import logging
import re

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

# What a person reads when the database cannot take writes: nothing was saved, come back.
STORAGE_MESSAGES_ZH = {
    "read_only": "系统数据库当前为只读状态，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
    "disk_full": "系统存储空间已满，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
    "unreachable": "系统数据库暂时无法连接，您的提交未能保存，请稍后再试。紧急情况请拨打12345。",
}
STORAGE_MESSAGE_ZH = "系统暂时无法保存数据，请稍后再试。紧急情况请拨打12345。"


class BadRequest(InvalidInput):
    """Input malformed before it reaches the domain (not JSON, a field of the wrong type)."""


class Unauthorized(DispatchError):
    """No valid bearer token: missing, unknown, expired, revoked, or its user deactivated."""

    code = "unauthorized"


STATUS = {InvalidInput: 422, NotFound: 404, PermissionDenied: 403, IllegalTransition: 409, Conflict: 409,
          StorageUnavailable: 503, RateLimited: 429, Unauthorized: 401}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")




def _respond(request: Request, status: int, code: str, message: str, extra: dict | None = None,
             headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": code, "message": message, **(extra or {})}, status_code=status,
                            headers=headers)
    page = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{status}</title>"
            f"<h1>{status}</h1><p>{html.escape(message)}</p><p><a href='/'>返回首页</a></p></html>")
    return HTMLResponse(page, status_code=status, headers=headers)


def in_chinese(exc: DispatchError) -> str:
    """The message a person reads; domain messages written in English for the logs get a
    Chinese one here (the original goes along as "detail")."""
    from web.pages.labels import action_label, label

    if isinstance(exc, IllegalTransition):
        return f"工单当前状态为「{label(exc.state)}」，不能执行「{action_label(exc.action)}」。"
    if _CHINESE.search(exc.message):
        return exc.message
    if isinstance(exc, InvalidInput):
        return f"「{exc.field}」填写有误。"
    if isinstance(exc, Conflict):
        return "该工单已被他人处理或修改，本次操作没有保存，请重新读取后再操作。"
    if isinstance(exc, PermissionDenied):
        return "您的角色或单位无权执行此操作。"
    if isinstance(exc, NotFound):
        return "未找到。"
    return exc.message


async def dispatch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DispatchError)
    if isinstance(exc, StorageUnavailable):
        return storage_unavailable(request, exc)
    status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)
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
    message = in_chinese(exc)
    if message != exc.message:
        extra["detail"] = exc.message
    return _respond(request, status, exc.code, message, extra, headers)


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
