"""Sending through the real twilio Client, optionally pointed at another server."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0


class ApiBaseHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client with the scheme and host swapped: the library builds
    https://api.twilio.com/2010-04-01/... and this sends it to e.g. the local simulator."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        base = urlsplit(api_base)
        if not base.scheme or not base.netloc:
            raise ValueError(f"not an absolute URL: {api_base!r}")
        self._scheme, self._netloc = base.scheme, base.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class Submitted:
    sid: str
    status: str | None


class TwilioSender:
    """The hotline's number sending texts; one instance is shared by the worker's thread."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, *, api_base: str | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        http = (ApiBaseHttpClient(api_base, timeout=timeout) if api_base
                else TwilioHttpClient(timeout=timeout))
        self._client = Client(account_sid, auth_token, http_client=http)
        self.from_number = from_number

    def send(self, to: str, body: str, status_callback: str | None = None, *, kind: str = "",
             params: dict[str, str] | None = None, out_id: str | None = None) -> Submitted:
        """Twilio sends the text itself: kind, params and out_id are for template providers."""
        try:
            kwargs: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
            if status_callback:
                kwargs["status_callback"] = status_callback
            message = self._client.messages.create(**kwargs)
        except Exception as exc:
            raise _as_send_error(exc) from exc
        return Submitted(sid=str(message.sid), status=str(message.status) if message.status else None)

    def find_earlier(self, to: str, body: str, since: dt.datetime, *,
                     out_id: str | None = None) -> Submitted | None:
        """A message to `to` with this body that Twilio took at or after `since`: the trace
        of an attempt whose answer was lost (crash, timeout). Raises SendError if Twilio
        cannot be asked, so the caller does not resend blindly."""
        floor = since.replace(microsecond=0) - dt.timedelta(seconds=1)
        try:
            for message in self._client.messages.list(to=to, from_=self.from_number, limit=50):
                created = message.date_created
                if message.body == body and (created is None or created >= floor):
                    return Submitted(sid=str(message.sid), status=str(message.status) if message.status else None)
        except Exception as exc:
            raise _as_send_error(exc) from exc
        return None


def _as_send_error(exc: Exception) -> SendError:
    if isinstance(exc, TwilioRestException):
        # 4xx says this message can never go (bad number, unsubscribed...); 429 and 5xx may pass later.
        permanent = 400 <= exc.status < 500 and exc.status != 429
        code = str(exc.code) if exc.code is not None else None
        return SendError(f"HTTP {exc.status}: {exc.msg}", permanent=permanent, code=code)
    if isinstance(exc, (requests.RequestException, TwilioException, OSError)):
        return SendError(f"{type(exc).__name__}: {exc}", permanent=False)
    return SendError(f"{type(exc).__name__}: {exc}", permanent=False)
