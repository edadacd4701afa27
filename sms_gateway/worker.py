"""The outbox worker: a thread owned by the app's lifespan that hands committed messages to
the provider (Twilio or Alibaba Cloud). Each attempt is three short steps, so a crash
anywhere loses nothing:

1. claim (one transaction): the message is "sending" with a lease;
2. send (no transaction open): a retry first asks the provider whether an earlier attempt
   already went through (Twilio's message list, Alibaba's QuerySendDetails), so a message
   whose answer was lost is not sent twice;
3. record (one transaction): submitted, or failed with backoff / given up.

A crash after 1 leaves the lease to expire; another attempt then takes it over.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Protocol

from sqlalchemy.orm import Session, sessionmaker

from dispatch import outbox
from dispatch.clock import utcnow
from dispatch.polling_worker import PollingWorker
from sms_gateway.sender import SendError, Submitted

log = logging.getLogger(__name__)


class Sender(Protocol):
    """A provider: Twilio sends the body; Alibaba Cloud sends the kind's approved template
    with its variables. `out_id` (the outbox id) travels with the message where the
    provider keeps one, so a later attempt can find it."""

    def send(self, to: str, body: str, status_callback: str | None = None, *, kind: str = "",
             params: dict[str, str] | None = None, out_id: str | None = None) -> Submitted: ...

    def find_earlier(self, to: str, body: str, since: dt.datetime, *,
                     out_id: str | None = None) -> Submitted | None: ...


class OutboxWorker(PollingWorker):
    thread_name = "sms-outbox"
    error_event = "sms_worker_error"
    start_event = "sms_worker_start"
    stop_event = "sms_worker_stop"

    def __init__(self, sessions: sessionmaker[Session], sender: Sender, *,
                 policy: outbox.RetryPolicy | None = None, poll_seconds: float = 5.0,
                 status_callback: Callable[[int], str] | None = None) -> None:
        super().__init__(poll_seconds)
        self._sessions = sessions
        self._sender = sender
        self.policy = policy or outbox.RetryPolicy()
        self._status_callback = status_callback

    def step(self, due_by: dt.datetime | None = None) -> bool:
        """One attempt at the next due message; False when nothing is due."""
        with self._sessions.begin() as session:
            claim = outbox.claim_next(session, self.policy, due_by=due_by)
        if claim is None:
            return False
        try:
            submitted = self._attempt(claim)
        except SendError as exc:
            with self._sessions.begin() as session:
                outbox.mark_failed(session, claim.id, exc.message, self.policy, permanent=exc.permanent,
                                   error_code=exc.code, now=utcnow())
            return True
        with self._sessions.begin() as session:
            outbox.mark_submitted(session, claim.id, submitted.sid, submitted.status, now=utcnow())
        return True

    def _attempt(self, claim: outbox.Claim) -> Submitted:
        if claim.first_attempt_at is not None:
            earlier = self._sender.find_earlier(claim.recipient, claim.body, claim.first_attempt_at,
                                                out_id=str(claim.id))
            if earlier is not None:
                log.info("sms found already sent by an earlier attempt",
                         extra={"event": "sms_reconciled", "outbox_id": claim.id, "sid": earlier.sid})
                return earlier
        callback = self._status_callback(claim.id) if self._status_callback else None
        return self._sender.send(claim.recipient, claim.body, callback, kind=claim.kind,
                                 params=claim.template_params, out_id=str(claim.id))
