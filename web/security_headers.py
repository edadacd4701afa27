"""Headers every answer carries, so that browsers hold the site to what it is: its pages are
never framed by another site (clickjacking the staff consoles' buttons), a file is read as
the type it is sent as, never sniffed into HTML or a script, and a link followed off the
site does not hand on the address it came from (a ticket number, a query)."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),                            # older browsers
    (b"content-security-policy", b"frame-ancestors 'none'"),  # what newer ones go by
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware: adds HEADERS to every HTTP answer that does not set them itself.
    Only the start of the answer is touched, so streams (server-sent events) flow as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
