"""Headers every answer carries, so that browsers hold the site to what it is: its pages are
never framed by another site (clickjacking the staff consoles' buttons), a file is read as
the type it is sent as, never sniffed into HTML or a script, and a link followed off the
site does not hand on the address it came from (a ticket number, a query).

Every dynamic answer is also `Cache-Control: no-store`: staff pages, exports, reports and
the staff API carry personal data, and so do /status and a citizen's ticket lookup; kept in
a browser's caches, a page would show again on Back after logout, or to the next person at
a shared computer. Static files (/static/, with their ETag), the health probes and any answer
that sets its own Cache-Control keep theirs.

A site served over https (HOTLINE_PUBLIC_URL https, as for Secure cookies, or a request that
came in over https) adds Strict-Transport-Security: a browser that has seen it goes to the
site over https only for a year, so no one on the way can strip TLS from a later visit and
read a staff login."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'").encode()
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),                            # older browsers
    # What newer ones go by for framing; and the pages' scripts come only from the site's own
    # files (/static/*.js: no inline script, handler or javascript: link runs, so a name or a
    # ticket's words that slipped past escaping could not run as a script), nothing is loaded
    # from elsewhere, and forms post only here. Inline styles stay allowed: the reports' HTML
    # carries its own <style>.
    (b"content-security-policy", CONTENT_SECURITY_POLICY),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")
# A year; no includeSubDomains: the city's other hosts under the domain are not ours to bind.
HSTS = (b"strict-transport-security", b"max-age=31536000")
# Files that are the same for everyone and may be cached (StaticFiles answers with an ETag).
CACHEABLE_PREFIXES = ("/static/",)
# The probes carry nothing personal: left as they were.
PROBES = frozenset({"/healthz", "/readyz"})


class SecurityHeaders:
    """ASGI middleware: adds HEADERS to every HTTP answer that does not set them itself, and
    no-store to every dynamic one that does not say how to cache it. Only the start of the
    answer is touched, so streams (server-sent events) flow as they are."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https   # served over https (behind a TLS proxy the app may see http only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        cacheable = path.startswith(CACHEABLE_PREFIXES) or path in PROBES
        extra = [HSTS] if self.https or scope.get("scheme") == "https" else []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in (*HEADERS, *extra) if name not in present]
                if not cacheable and NO_STORE[0] not in present:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
