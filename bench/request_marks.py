"""Which statements a request sent, as opposed to the app's background work (the watcher, the
scheduler): an ASGI wrapper marks the request's own context, and SQLAlchemy hooks ask IN_REQUEST."""
from __future__ import annotations

import contextvars
from typing import Any, Callable

IN_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("in_request", default=False)


def marking(app: Callable[..., Any]) -> Callable[..., Any]:
    """`app`, with IN_REQUEST set while it serves an HTTP request."""
    async def marked(scope: Any, receive: Any, send: Any) -> None:
        token = IN_REQUEST.set(scope["type"] == "http")
        try:
            await app(scope, receive, send)
        finally:
            IN_REQUEST.reset(token)
    return marked
