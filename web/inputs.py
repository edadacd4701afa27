"""Input that no database can store, and dates no calendar can hold, refused at the door
with a clear 4xx and the same answer on SQLite and PostgreSQL.

NUL cannot be stored in a PostgreSQL text column (SQLite would keep it) and a lone UTF-16
surrogate has no UTF-8 spelling (JSON's "\\ud800" decodes to one). The path and query of
every request are checked by InputGuard; the bodies where they are read: the API's JSON,
the pages' forms and Twilio's webhook, each through refuse_unstorable().
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from dispatch.clock import MAX_DAY, MIN_DAY
from dispatch.errors import InvalidInput, Reason
from dispatch.numbers import whole_number
from web.errors import BadRequest, dispatch_error

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


def refuse_unstorable(fields: Iterable[tuple[str, Any]]) -> None:
    """Raise BadRequest naming the first field (or JSON key) holding NUL or a lone surrogate;
    lists and objects inside JSON are walked."""
    for name, value in fields:
        if unstorable(name):
            raise BadRequest("?", Reason.UNSTORABLE)
        if isinstance(value, str):
            if unstorable(value):
                raise BadRequest(name, Reason.UNSTORABLE)
        elif isinstance(value, dict):
            refuse_unstorable(value.items())
        elif isinstance(value, list):
            refuse_unstorable((name, item) for item in value)


def parse_day(name: str, raw: str) -> dt.date:
    """YYYY-MM-DD between MIN_DAY and MAX_DAY, or BadRequest in Chinese."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(name, Reason.BAD_DATE, value=raw[:40]) from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise BadRequest(name, Reason.DATE_OUT_OF_RANGE, low=MIN_DAY.isoformat(), high=MAX_DAY.isoformat())
    return day


class InputGuard:
    """ASGI middleware: a request whose path or query holds NUL (or, percent-decoded, a lone
    surrogate) is answered 422 before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self._refusal(scope)
            if refused is not None:
                response = await dispatch_error(Request(scope, receive), refused)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope) -> BadRequest | None:
        if unstorable(scope["path"]):
            return BadRequest("path", Reason.UNSTORABLE)
        query = scope.get("query_string", b"")
        if not query:
            return None
        try:
            refuse_unstorable(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
        except BadRequest as exc:
            return exc
        return None


def notices_asked(form: Any) -> list[int] | None:
    """标为已读's form: the one notice it names (its id), or None for all of them."""
    raw = str(form.get("notice") or "")
    if not raw:
        return None
    notice_id = whole_number(raw)
    if notice_id is None:
        raise InvalidInput("notice", Reason.NOT_INTEGER)
    return [notice_id]
