"""The fetcher of picture messages' photos (dispatch/media_fetches.py): a thread, run by the
process holding the SMS sender's role, that downloads each photo a citizen's MMS linked to
from Twilio's API with the account's HTTP Basic credentials and adds it to the ticket.

Only links on Twilio's media host (api.twilio.com, or the configured stand-in base URL,
HOTLINE_TWILIO_API_BASE) under this account's own path are fetched: the webhook's links
are the provider's, and neither the credentials nor a request go anywhere else (no SSRF).
Twilio answers a media URL with a redirect to a short-lived signed address on its content
network: that hop is followed without the credentials, over https only, pinned to an
address checked to be public (web/webhook_sender.pinned), at most MAX_HOPS times.

The body is read as it streams, and given up past HOTLINE_ATTACHMENT_MAX_BYTES: a link
cannot make the hotline hold more than one photo's worth."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from dispatch import attachments, media_fetches
from dispatch.attachments import AttachmentLimits
from dispatch.errors import Conflict, InvalidInput
from dispatch.outbox import RetryPolicy
from web.messages import describe
from dispatch.polling_worker import PollingWorker
from web.webhook_sender import not_public, pinned

log = logging.getLogger(__name__)

TWILIO_MEDIA_BASE = "https://api.twilio.com"
TIMEOUT_SECONDS = 30.0
MAX_HOPS = 3
USER_AGENT = "hotline-12345-media/1"
# An answer that will not change on a later attempt: the photo is refused for good.
FINAL_STATUSES = frozenset({400, 404, 410, 415})


class Refused(Exception):
    """The link or its answer will never give a photo: not tried again."""


class Unreachable(Exception):
    """No photo this time (no answer, a 5xx, a rate limit): tried again later."""


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


@dataclass(frozen=True)
class TwilioMedia:
    """Where the account's media may be fetched from, and with what credentials."""

    account_sid: str
    auth_token: str
    api_base: str | None = None

    @property
    def origins(self) -> frozenset[tuple[str, str, int]]:
        return frozenset({_origin(TWILIO_MEDIA_BASE), *([_origin(self.api_base)] if self.api_base else [])})

    def owns(self, url: str) -> bool:
        """A media link of this account on Twilio's host (or the stand-in's)."""
        parts = urlsplit(url)
        return (_origin(url) in self.origins and not parts.username and not parts.password
                and parts.path.startswith(f"/2010-04-01/Accounts/{self.account_sid}/Messages/")
                and "/Media/" in parts.path and ".." not in parts.path)


class MediaFetcher(PollingWorker):
    thread_name = "mms-media"
    error_event = "mms_media_error"

    def __init__(self, sessions: sessionmaker[Session], media: TwilioMedia, limits: AttachmentLimits, *,
                 policy: RetryPolicy = media_fetches.POLICY, poll_seconds: float = 5.0,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(poll_seconds)
        self._sessions = sessions
        self.media = media
        self.limits = limits
        self.policy = policy
        self._timeout = timeout

    def step(self, due_by: dt.datetime | None = None) -> bool:
        """One attempt at the next due photo; False when none is due."""
        with self._sessions.begin() as session:
            claim = media_fetches.claim_next(session, self.policy, due_by=due_by)
        if claim is None:
            return False
        try:
            data = self.download(claim.url)
        except Refused as exc:
            with self._sessions.begin() as session:
                media_fetches.refused(session, claim.id, str(exc))
            return True
        except Unreachable as exc:
            with self._sessions.begin() as session:
                media_fetches.failed(session, claim.id, str(exc), self.policy)
            return True
        try:
            with self._sessions.begin() as session:
                media_fetches.attach(session, claim.id, data, self.limits)
        except InvalidInput as exc:   # not an image, too large, the ticket full: rolled back, then said
            with self._sessions.begin() as session:
                media_fetches.refused(session, claim.id, describe(exc))
        except Conflict as exc:       # the ticket changed meanwhile: the bytes are fetched again later
            with self._sessions.begin() as session:
                media_fetches.failed(session, claim.id, f"conflict: {exc.message}", self.policy)
        return True

    def download(self, url: str) -> bytes:
        """The photo's bytes, at most the size limit plus one (so the check sees it too large)."""
        if not self.media.owns(url):
            raise Refused(f"not a media link of this Twilio account: {url[:200]}")
        with httpx.Client(timeout=self._timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}) as http:
            for _ in range(MAX_HOPS + 1):
                request, auth = self._request(http, url)
                try:
                    response = http.send(request, auth=auth, stream=True)
                except httpx.HTTPError as exc:
                    raise Unreachable(f"{type(exc).__name__}: {exc}") from None
                try:
                    if response.is_redirect and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code in FINAL_STATUSES:
                        raise Refused(f"HTTP {response.status_code}")
                    if not 200 <= response.status_code < 300:
                        raise Unreachable(f"HTTP {response.status_code}")
                    return self._read(response)
                finally:
                    response.close()
        raise Refused(f"more than {MAX_HOPS} redirects")

    def _request(self, http: httpx.Client, url: str) -> tuple[httpx.Request, httpx.BasicAuth | None]:
        if self.media.owns(url):
            return http.build_request("GET", url), httpx.BasicAuth(self.media.account_sid, self.media.auth_token)
        # The content network's signed address Twilio sent us to: no credentials, https only,
        # the name resolved once and only to a public address.
        if urlsplit(url).scheme != "https":
            raise Refused(f"redirect to a link that is not https: {url[:200]}")
        try:
            target = pinned(url, refuse=not_public)
        except OSError as exc:
            raise Unreachable(f"ConnectError: {exc}") from None
        if target.refused is not None:
            raise Refused(f"redirect to {target.refused}, not a public address")
        return http.build_request("GET", target.url, headers=target.headers, extensions=target.extensions), None

    def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise Refused(describe(attachments.too_large("", int(declared), self.limits)))
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self.limits.max_bytes:
                    break
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        return b"".join(chunks)
