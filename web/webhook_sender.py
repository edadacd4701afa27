"""The sender of units' webhooks: a thread, run by the one process holding the role
(web/leadership.py), that POSTs committed deliveries (dispatch/webhooks.py). Each attempt
is three short steps like the SMS outbox's: claim with a lease, POST with no transaction
open, record delivered or failed with backoff. A 2xx answer is delivered; anything else,
or no answer within the timeout, is tried again later. Redirects are not followed: the
signature is for the registered URL only.

The receiver's name is resolved once per attempt, and the POST goes to the address so
checked (the URL's host replaced by it, the Host header and, over https, the TLS server name
and certificate check kept on the name: httpx's `sni_hostname` extension): a name whose
answer changes between the check and the connection (DNS rebinding) cannot slip a refused
address past the check. No connection is kept for another attempt, since a pooled one
would be keyed by the address alone.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from dispatch import webhooks
from dispatch.outbox import RetryPolicy
from dispatch.polling_worker import PollingWorker

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
USER_AGENT = "hotline-12345-webhooks/1"


class WebhookSender(PollingWorker):
    thread_name = "webhook-sender"
    error_event = "webhook_sender_error"

    def __init__(self, sessions: sessionmaker[Session], *, policy: RetryPolicy | None = None,
                 poll_seconds: float = 5.0, timeout: float = TIMEOUT_SECONDS,
                 verify: ssl.SSLContext | bool = True, allow_private: bool = False) -> None:
        super().__init__(poll_seconds)
        self._sessions = sessions
        # HOTLINE_WEBHOOK_ALLOW_PRIVATE: whether a name may resolve to loopback or a private network.
        self._refuse = functools.partial(webhooks.never_a_receiver, allow_private=allow_private)
        self.policy = policy or RetryPolicy(max_attempts=8, base_delay=dt.timedelta(seconds=30),
                                            max_delay=dt.timedelta(hours=2))
        self._timeout = timeout
        self._verify = verify   # the receivers' certificates: checked against the public CAs unless given
        # Made at the first delivery: its TLS set-up reads the CA bundle (~0.2 s), which every
        # app start paid, though most processes never send a webhook.
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout, follow_redirects=False, verify=self._verify,
                                            headers={"user-agent": USER_AGENT})
            return self._client

    def step(self, due_by: dt.datetime | None = None) -> bool:
        """One attempt at the next due delivery; False when nothing is due."""
        with self._sessions.begin() as session:
            claim = webhooks.claim_next(session, self.policy, due_by=due_by)
        if claim is None:
            return False
        status, error = self._post(claim)
        with self._sessions.begin() as session:
            if error is None and status is not None:
                webhooks.mark_delivered(session, claim.id, status)
            else:
                webhooks.mark_failed(session, claim.id, error or "no answer", self.policy, response_status=status)
        return True

    def _post(self, claim: webhooks.Claim) -> tuple[int | None, str | None]:
        stamp = int(time.time())
        headers = {"content-type": "application/json; charset=utf-8",
                   webhooks.SIGNATURE_HEADER: webhooks.signature_header(claim.secret, stamp, claim.payload),
                   webhooks.DELIVERY_HEADER: claim.delivery_id, webhooks.EVENT_HEADER: claim.event_type}
        try:
            target = pinned(claim.url, refuse=self._refuse)
        except OSError as exc:   # not resolved: said as httpx would have said it
            return None, f"ConnectError: {exc}"
        if target.refused is not None:
            return None, f"refused: {target.refused} is not a receiver's address"
        try:
            response = self._http().post(target.url, content=claim.payload, headers={**headers, **target.headers},
                                         extensions=target.extensions)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


@dataclass(frozen=True)
class Target:
    """Where one attempt POSTs: `url` with its host replaced by the checked address, and what
    keeps the name for the receiver (Host header, TLS server name); or `refused`, the
    address the name gave that no unit's system has."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]
    refused: str | None = None


def pinned(url: str, refuse: Callable[[str], bool] = webhooks.never_a_receiver) -> Target:
    """Resolve the URL's host once and pin the POST to that answer. Refused when any address
    it gives is one `refuse` names (by default webhooks.never_a_receiver: link-local,
    loopback, private...): a name registered harmless may be pointed at one later.
    OSError when the name does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    try:
        found = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except UnicodeError as exc:
        raise OSError(f"cannot resolve {host!r}: {exc}") from None
    addresses = [str(info[4][0]) for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise OSError(f"no address for {host!r}")
    refused = next((address for address in addresses if refuse(address)), None)
    if refused is not None:
        return Target(url, {}, {}, refused=refused)
    # Never kept for another attempt: a pooled connection is keyed by the address alone.
    close = {"connection": "close"}
    if literal:
        return Target(url, close, {})
    named = httpx.URL(url)
    headers = {**close, "host": named.netloc.decode("ascii")}
    extensions = {"sni_hostname": named.raw_host.decode("ascii")} if named.scheme == "https" else {}
    return Target(str(named.copy_with(host=addresses[0].split("%")[0])), headers, extensions)


def not_public(address: str) -> bool:
    """Stricter than a unit's receiver: any address not on the public internet (private,
    loopback, link-local, shared, reserved...), for a link nobody on staff chose."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@contextlib.asynccontextmanager
async def sending(sender: WebhookSender) -> AsyncIterator[None]:
    sender.start()
    try:
        yield
    finally:
        await run_in_threadpool(sender.stop)
