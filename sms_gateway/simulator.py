"""A local stand-in for Twilio's REST API, so the whole SMS loop runs on one machine.

It answers POST /2010-04-01/Accounts/{sid}/Messages.json (Basic auth) as Twilio does, with a
sid and status "queued", then calls the message's StatusCallback ("sent", then "delivered"
or "undelivered"), signed with the auth token. It can be told to fail the next requests
(400 or 500, with a Twilio error code) for tests and demos.

A picture message's media are served as Twilio serves them: GET
/2010-04-01/Accounts/{sid}/Messages/{MM}/Media/{ME} with the account's Basic auth (401
without), the bytes with their content type; add_media() stores a photo and gives its URL,
fail_media_next() makes the next downloads fail.

For a person at the keyboard, POST /sim/inbound (From, Body, and optional files `Media`)
texts the hotline: it signs and forwards the webhook (a file as MediaUrl0.., served as
above) and shows the TwiML reply; GET /sim/messages lists what was sent.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import email.utils
import hmac
import logging
import re
import secrets
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from dispatch.errors import InvalidInput
from dispatch.phone import normalise_phone

log = logging.getLogger(__name__)

API = "/2010-04-01/Accounts/{account_sid}"
_E164 = re.compile(r"\+[1-9]\d{6,14}")
MAX_BODY = 1600
# Twilio error 30003: unreachable destination handset.
UNREACHABLE = "30003"
# Credentials the simulator and `serve --demo` agree on when no Twilio settings are given.
DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "sms-sim-auth-token"
DEMO_FROM = "+10000012345"


@dataclass
class SimMessage:
    sid: str
    to: str
    from_: str
    body: str
    status: str
    created: dt.datetime
    status_callback: str | None
    error_code: str | None = None

    def resource(self, account_sid: str) -> dict[str, Any]:
        rfc2822 = email.utils.format_datetime(self.created, usegmt=True)
        return {
            "account_sid": account_sid, "api_version": "2010-04-01", "body": self.body,
            "date_created": rfc2822, "date_updated": rfc2822, "date_sent": None,
            "direction": "outbound-api", "error_code": self.error_code, "error_message": None,
            "from": self.from_, "messaging_service_sid": None, "num_media": "0",
            "num_segments": "1", "price": None, "price_unit": "USD", "sid": self.sid,
            "status": self.status, "to": self.to,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}/Media.json"},
        }


@dataclass
class TwilioSimulator:
    account_sid: str
    auth_token: str
    callback_delay: float = 0.05
    url: str | None = None  # where it is served, once it is
    # Where /sim/inbound forwards a citizen's text (the hotline's public webhook URL).
    hotline_webhook_url: str | None = None
    messages: list[SimMessage] = field(default_factory=list)
    callbacks: list[dict[str, str]] = field(default_factory=list)
    undeliverable: set[str] = field(default_factory=set)
    _failures: deque[tuple[int, int | None, str]] = field(default_factory=deque)
    # Media by their sid (ME...): (message sid, content type, bytes); downloads as made.
    media: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    media_requests: list[dict[str, str]] = field(default_factory=list)
    # A media sid answered with a redirect to this URL instead of its bytes.
    media_redirects: dict[str, str] = field(default_factory=dict)
    # Media sids served in chunks with no Content-Length, as a stream of unknown size comes.
    media_chunked: set[str] = field(default_factory=set)
    _media_failures: deque[int] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: httpx.AsyncClient | None = None

    def fail_next(self, status: int, code: int | None = None, message: str = "simulated failure",
                  times: int = 1) -> None:
        """The next `times` message requests are answered with this error."""
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def add_media(self, data: bytes, content_type: str = "image/jpeg", message_sid: str | None = None) -> str:
        """Store a photo as a received MMS's media; its URL, as MediaUrlN carries it."""
        message_sid = message_sid or "MM" + secrets.token_hex(16)
        media_sid = "ME" + secrets.token_hex(16)
        with self._lock:
            self.media[media_sid] = (message_sid, content_type, data)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def fail_media_next(self, status: int, times: int = 1) -> None:
        """The next `times` media downloads are answered with this status."""
        with self._lock:
            self._media_failures.extend([status] * times)

    def sent_to(self, to: str) -> list[SimMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == to]

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=10.0) as client:
                self._client = client
                yield

        base = API.replace("{account_sid}", "{account_sid:str}")
        return Starlette(routes=[
            Route(base + "/Messages.json", self._create, methods=["POST"]),
            Route(base + "/Messages.json", self._list, methods=["GET"]),
            Route(base + "/Messages/{sid:str}.json", self._fetch, methods=["GET"]),
            Route(base + "/Messages/{sid:str}/Media/{media_sid:str}", self._media, methods=["GET"]),
            Route("/sim/messages", self._show, methods=["GET"]),
            Route("/sim/inbound", self._inbound, methods=["POST"]),
        ], lifespan=lifespan)

    # ---- REST API ----------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)
                and request.path_params["account_sid"] == self.account_sid)

    @staticmethod
    def _error(status: int, code: int | None, message: str) -> JSONResponse:
        return JSONResponse({"code": code, "message": message, "status": status,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None},
                            status_code=status)

    async def _create(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.form()
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return self._error(*failure)
        to, from_, body = (str(form.get(k) or "") for k in ("To", "From", "Body"))
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        message = SimMessage(sid="SM" + secrets.token_hex(16), to=to, from_=from_, body=body, status="queued",
                             created=dt.datetime.now(dt.timezone.utc),
                             status_callback=str(form.get("StatusCallback") or "") or None)
        with self._lock:
            self.messages.append(message)
        log.info("sim: message accepted", extra={"event": "sim_message", "sid": message.sid, "to": to})
        task = BackgroundTask(self._deliver, message) if message.status_callback else None
        return JSONResponse(message.resource(self.account_sid), status_code=201, background=task)

    async def _list(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        to, from_ = request.query_params.get("To"), request.query_params.get("From")
        size = int(request.query_params.get("PageSize") or 50)
        with self._lock:
            found = [m for m in reversed(self.messages)
                     if (to is None or m.to == to) and (from_ is None or m.from_ == from_)][:size]
        uri = request.url.path
        return JSONResponse({"messages": [m.resource(self.account_sid) for m in found], "page": 0,
                             "page_size": size, "start": 0, "end": max(0, len(found) - 1), "uri": uri,
                             "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None})

    async def _fetch(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        with self._lock:
            found = next((m for m in self.messages if m.sid == request.path_params["sid"]), None)
        if found is None:
            return self._error(404, 20404, "The requested resource was not found")
        return JSONResponse(found.resource(self.account_sid))

    async def _media(self, request: Request) -> Response:
        authorised = self._authorised(request)
        media_sid = request.path_params["media_sid"]
        with self._lock:
            self.media_requests.append({"media_sid": media_sid, "authorised": str(authorised)})
            if not authorised:
                return self._error(401, 20003, "Authenticate")
            failure = self._media_failures.popleft() if self._media_failures else None
            found = self.media.get(media_sid)
            redirect = self.media_redirects.get(media_sid)
        if failure is not None:
            return self._error(failure, None, "simulated failure")
        if found is None or found[0] != request.path_params["sid"]:
            return self._error(404, 20404, "The requested resource was not found")
        if redirect is not None:
            return Response(status_code=307, headers={"location": redirect})
        if media_sid in self.media_chunked:
            data = found[2]

            async def chunks() -> AsyncIterator[bytes]:
                for at in range(0, len(data), 1024):
                    yield data[at:at + 1024]
            return StreamingResponse(chunks(), media_type=found[1])
        return Response(found[2], media_type=found[1])

    async def _deliver(self, message: SimMessage) -> None:
        """What the carrier would report, in order, signed as Twilio signs."""
        final = "undelivered" if message.to in self.undeliverable else "delivered"
        for status in ("sent", final):
            await asyncio.sleep(self.callback_delay)
            message.status = status
            if status == "undelivered":
                message.error_code = UNREACHABLE
            params = {"MessageSid": message.sid, "SmsSid": message.sid, "AccountSid": self.account_sid,
                      "From": message.from_, "To": message.to, "MessageStatus": status, "SmsStatus": status,
                      "ApiVersion": "2010-04-01"}
            if message.error_code:
                params["ErrorCode"] = message.error_code
            await self._post_signed(str(message.status_callback), params)

    async def _post_signed(self, url: str, params: dict[str, str]) -> httpx.Response | None:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        assert self._client is not None, "the simulator app's lifespan has not started"
        try:
            response = await self._client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        except httpx.HTTPError as exc:
            log.warning("sim: callback failed", extra={"event": "sim_callback_error", "url": url,
                                                       "error": str(exc)})
            return None
        with self._lock:
            self.callbacks.append(params | {"_http_status": str(response.status_code)})
        return response

    # ---- for a person trying it out -----------------------------------------------------

    async def _show(self, _request: Request) -> Response:
        with self._lock:
            return JSONResponse([{"sid": m.sid, "to": m.to, "body": m.body, "status": m.status,
                                  "error_code": m.error_code} for m in self.messages])

    async def _inbound(self, request: Request) -> Response:
        """Text the hotline as a citizen: form fields From and Body (To defaults)."""
        if not self.hotline_webhook_url:
            return self._error(404, None, "no hotline webhook URL configured")
        form = await request.form()
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": self.account_sid,
                  "From": _e164(str(form.get("From") or "+8613800000000")), "To": str(form.get("To") or "+12345"),
                  "Body": str(form.get("Body") or ""), "NumMedia": "0", "NumSegments": "1"}
        params["SmsMessageSid"] = params["MessageSid"]
        files = [f for f in form.getlist("Media") if not isinstance(f, str)]
        message_sid = "MM" + params["MessageSid"][2:]
        for i, upload in enumerate(files[:10]):
            kind = upload.content_type or "application/octet-stream"
            params[f"MediaUrl{i}"] = self.add_media(await upload.read(), kind, message_sid)
            params[f"MediaContentType{i}"] = kind
        params["NumMedia"] = str(min(len(files), 10))
        if files:   # Twilio names a picture message MM..., in the webhook as in its media's path
            params["MessageSid"] = params["SmsMessageSid"] = message_sid
        response = await self._post_signed(self.hotline_webhook_url, params)
        if response is None:
            return self._error(502, None, "the hotline did not answer")
        return Response(response.text, status_code=response.status_code,
                        media_type=response.headers.get("content-type"))


def _e164(raw: str) -> str:
    """Twilio sends E.164; people typing a demo number write it the way they say it."""
    try:
        return normalise_phone(raw)
    except InvalidInput:
        return raw.strip()


class ServerThread:
    """Serves an ASGI app with uvicorn in a thread. The port is bound at construction (0:
    any free one), so the URL is known before the app is built (it may need it)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()  # a busy port: the caller says so, the socket is not left open
            raise
        self.host, self.port = self._socket.getsockname()[:2]
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, app: Any, timeout: float = 10.0) -> ServerThread:
        # No logging set up here: uvicorn's own would replace the process's handlers for every
        # server in it, the hotline's too, and its access lines would keep their query strings
        # (a status lookup's query code) unredacted (web/logs.py).
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level=None, lifespan="on"))
        self.server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [self._socket]},
                                        name=f"server-{self.port}", daemon=True)
        self._thread.start()
        waited = 0.0
        while not server.started:
            if not self._thread.is_alive() or waited > timeout:
                raise RuntimeError(f"server on {self.url} did not start")
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def stop(self) -> None:
        if self.server is not None and self._thread is not None:
            self.server.should_exit = True
            self._thread.join(10)
        self._socket.close()
