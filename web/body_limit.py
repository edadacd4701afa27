"""Request bodies are refused past their limit before they are held whole: a body announcing
more than the limit (Content-Length) is answered at once, unread, and one that grows past it
while arriving stops being read. Routes read a body at once (request.body(), request.form()),
so a few hundred megabytes sent to any route used to sit in memory before the route's own
limit was looked at, and several such requests at once could exhaust the server."""
from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.errors import Reason
from web.errors import TooLarge, dispatch_error

# The largest body a route takes: a city's units file uploaded on /admin/units/import
# (a few hundred kB for a large city); the JSON API and the SMS webhooks keep smaller limits.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def _declared(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int) -> TooLarge:
    return TooLarge("body", Reason.BODY_TOO_LARGE, limit=limit)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or TooLarge as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# The forms that carry photos (the citizen's form, a ticket's 上传图片, 直接办结, 办结答复 and 协办答复, the
# console's 引用此文直接办结): their bodies may hold as many photos as a ticket takes
# (HOTLINE_ATTACHMENTS_PER_TICKET times HOTLINE_ATTACHMENT_MAX_BYTES) and the form's words besides.
PHOTO_FORMS = re.compile(r"^/(tickets/[^/]+/(attach|answer|resolve|part_reply)|operator/tickets)?$")
FORM_WORDS_BYTES = 1024 * 1024


# An Open311 request's multipart form may carry one photo, its `media` file.
OPEN311_PHOTO_FORM = re.compile(r"^/open311/v2/requests\.[A-Za-z]+$")


def open311_photo_limit(max_bytes: int) -> int:
    return max(MAX_REQUEST_BYTES, max_bytes + FORM_WORDS_BYTES)


def photo_forms_limit(per_ticket: int, max_bytes: int) -> Callable[[Scope], int | None]:
    """The larger limit of a POST to a form that carries photos; None for any other request."""
    limit = per_ticket * max_bytes + FORM_WORDS_BYTES

    def wider(scope: Scope) -> int | None:
        if scope.get("method") != "POST":
            return None
        path = scope.get("path", "")
        if PHOTO_FORMS.match(path):
            return limit
        return open311_photo_limit(max_bytes) if OPEN311_PHOTO_FORM.match(path) else None

    return wider


class BodyLimit:
    """ASGI middleware: every request body held to `limit` bytes, or to what `wider` gives
    the request (the forms that carry photos)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES,
                 wider: Callable[[Scope], int | None] | None = None) -> None:
        self.app, self.limit, self.wider = app, limit, wider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max(self.limit, (self.wider(scope) if self.wider else None) or 0)
        declared = _declared(scope.get("headers", []))
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = await dispatch_error(Request(scope, receive), _too_large(limit))
        response.headers["connection"] = "close"   # the rest of the body is not read
        await response(scope, receive, send)
