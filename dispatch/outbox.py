"""The SMS outbox: notifications written in the same transaction as the change they tell
about, and handed to Twilio after commit by a worker that may crash at any point.

Enqueueing is a before_flush hook on the session factory (install()), like the running
totals in rollup.py: every ticket change writes a TicketEvent, whichever function made it
(intake, lifecycle, a future bulk tool), and every TicketEvent is flushed, so no code path
can forget to notify. The hook adds an OutboxMessage tied to the new event; the unique
(event, kind) key makes a second message for one change impossible.

Sending is at least once per claim and reconciled: a message is claimed with a lease
(status "sending"), and any attempt after the first asks the provider whether an earlier
attempt already went through before sending again (see sms_gateway/worker.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch import rate_counters
from dispatch.clock import utcnow
from dispatch.limits import SmsLimits
from dispatch.masking import mask_phone
from dispatch.models import OutboxMessage, Ticket, TicketEvent, Unit
from dispatch.notifications import (
    SIGNATURE,
    TEMPLATES,
    Kind,
    fill,
    free_text_params,
    is_opted_out,
    notification_params,
    opt_out,
    wants_notification,
)

log = logging.getLogger(__name__)

PENDING, SENDING, SUBMITTED, FAILED, OPTED_OUT = "pending", "sending", "submitted", "failed", "opted_out"
# Twilio's statuses, in the order a message goes through them; a late callback never
# moves a message back.
DELIVERY_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
                 "delivered": 4, "read": 4, "undelivered": 4, "failed": 4, "canceled": 4}
DELIVERY_FAILED = frozenset({"undelivered", "failed"})
# Twilio error 21610: the recipient has replied STOP to our number; Twilio refuses to send.
UNSUBSCRIBED_CODE = "21610"
# A provider id standing in for one the provider did not tell (Alibaba's QuerySendDetails
# finds a message by our OutId but gives no BizId): the next receipt naming this message
# by outbox id puts the real one in its place.
RECONCILED_PREFIX = "out:"
_ENQUEUED = "outbox_enqueued"
_LIMITS = "outbox_sms_limits"
_STATUS_URL = "outbox_status_url"
_INSTALLED: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: dt.timedelta = dt.timedelta(seconds=30)
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    # How long a claimed message is left to its worker before another may take it over.
    lease: dt.timedelta = dt.timedelta(minutes=2)

    def delay(self, attempts: int) -> dt.timedelta:
        """Exponential backoff: base, 2 base, 4 base ... up to max_delay."""
        return min(self.base_delay * (2 ** max(0, attempts - 1)), self.max_delay)


# ---- enqueue --------------------------------------------------------------------------

def install(factory: sessionmaker[Session], on_commit: Callable[[], None] | None = None,
            limits: SmsLimits | None = None, status_url: str | None = None) -> None:
    """Make every session of `factory` enqueue notifications; `on_commit` is called after a
    commit that enqueued something (to wake the worker instead of waiting for its poll).
    `limits` (default SmsLimits()) says which countries get texts and how many;
    `status_url` (the public status page, if the deployment knows its address) is where a
    reply cut to fit a text says the rest can be read."""
    if limits is not None:
        factory.configure(info={**(factory.kw.get("info") or {}), _LIMITS: limits})
    if status_url is not None:
        factory.configure(info={**(factory.kw.get("info") or {}), _STATUS_URL: status_url})
    # Not event.contains(): it can answer for a collected factory that had the same id().
    if factory not in _INSTALLED:
        event.listen(factory, "before_flush", on_flush)
        _INSTALLED.add(factory)
    if on_commit is not None:
        def after_commit(session: Session) -> None:
            if session.info.pop(_ENQUEUED, False):
                on_commit()

        def after_rollback(session: Session) -> None:
            session.info.pop(_ENQUEUED, None)

        event.listen(factory, "after_commit", after_commit)
        event.listen(factory, "after_rollback", after_rollback)


def on_flush(session: Session, _context: Any, _instances: Any) -> None:
    """before_flush hook: one outbox message per new event that calls for a notification."""
    for obj in list(session.new):
        if isinstance(obj, TicketEvent):
            _enqueue_for(session, obj)


def _enqueue_for(session: Session, ticket_event: TicketEvent) -> None:
    # A new ticket has no id before this flush: take it from the event when it was set there.
    ticket = ticket_event.__dict__.get("ticket") or session.get(Ticket, ticket_event.ticket_id)
    if ticket is None:
        return
    kind = wants_notification(ticket, ticket_event)
    if kind is None:
        return
    now = utcnow()
    if kind is Kind.REPEAT_CODE and _code_sent_lately(session, ticket, now):
        return
    if not _within_limits(session, ticket.phone or "", kind.value, ticket.number, now):
        return
    unit_id = ticket_event.unit_id or ticket.unit_id
    unit = session.get(Unit, unit_id) if unit_id else None
    params = notification_params(kind, ticket, unit.name if unit else None, session.info.get(_STATUS_URL))
    session.add(OutboxMessage(event=ticket_event, ticket=ticket, kind=kind.value,
                              recipient=ticket.phone or "", created_at=now, status=PENDING, attempts=0,
                              next_attempt_at=now, body=SIGNATURE + fill(TEMPLATES[kind], params),
                              template_params=params))
    session.info[_ENQUEUED] = True


# The open ticket's number and code go to its phone once a day however often it is repeated:
# they do not change, and anyone can repeat a request naming any phone.
REPEAT_CODE_EVERY = dt.timedelta(days=1)


def _code_sent_lately(session: Session, ticket: Ticket, now: dt.datetime) -> bool:
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.ticket_id == ticket.id, OutboxMessage.kind == Kind.REPEAT_CODE.value,
        OutboxMessage.created_at > now - REPEAT_CODE_EVERY).limit(1)) is not None


REPLY_KIND = "reply"


def enqueue_reply(session: Session, recipient: str, body: str, ticket_id: int | None = None) -> OutboxMessage:
    """A reply to a citizen's text that could not go back in the webhook's answer (the text
    was filed later, from the spool): sent by the worker like any notification."""
    now = utcnow()
    message = OutboxMessage(event_id=None, ticket_id=ticket_id, kind=REPLY_KIND, recipient=recipient, body=body,
                            created_at=now, status=PENDING, attempts=0, next_attempt_at=now,
                            template_params=free_text_params(body))
    session.add(message)
    session.flush()
    session.info[_ENQUEUED] = True
    return message


def enqueue_unit_text(session: Session, recipient: str, kind: str, body: str, *, ticket_id: int | None,
                      number: str = "", now: dt.datetime | None = None) -> OutboxMessage | None:
    """A text to a unit's duty phone (dispatch/notices.py decides when): sent by the worker
    like any notification, under the same country rule and caps. None when a cap held it back."""
    now = now or utcnow()
    if not _within_limits(session, recipient, kind, number, now):
        return None
    message = OutboxMessage(event_id=None, ticket_id=ticket_id, kind=kind, recipient=recipient, body=body,
                            created_at=now, status=PENDING, attempts=0, next_attempt_at=now,
                            template_params=free_text_params(body))
    session.add(message)
    session.flush()
    session.info[_ENQUEUED] = True
    return message


def _within_limits(session: Session, recipient: str, kind: str, number: str, now: dt.datetime) -> bool:
    """Whether a notification may be queued: a number of an allowed country, under its daily
    cap and under the hourly cap of all notifications (counted in the database, so the caps
    hold across processes). Replies to a citizen's own texts are not notifications: they
    never come here and count toward neither cap."""
    limits: SmsLimits = session.info.get(_LIMITS) or SmsLimits()
    about = {"recipient": mask_phone(recipient), "kind": kind, "ticket": number}
    if not limits.country_allowed(recipient):
        log.warning("sms not queued: country not allowed",
                    extra={"event": "sms_blocked", "reason": "country", **about})
        return False
    for limit, subject in ((limits.per_recipient, recipient), (limits.overall, "all")):
        if limit.on and rate_counters.hit(session, limit, subject, now) > limit.limit:
            log.warning("sms not queued: cap reached",
                        extra={"event": "sms_capped", "limit": limit.name, "cap": limit.limit, **about})
            return False
    return True


# ---- claim and record -----------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A message a worker holds for one attempt."""

    id: int
    recipient: str
    body: str
    attempt: int
    # Set when an earlier attempt may have reached the provider: check before resending.
    first_attempt_at: dt.datetime | None
    kind: str = ""
    # The template's variables, for a provider that sends by template (Alibaba Cloud).
    template_params: dict[str, str] | None = None


def _due(by: dt.datetime) -> Any:
    return or_((OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= by),
               (OutboxMessage.status == SENDING) & (OutboxMessage.lease_until < by))


def claim_next(session: Session, policy: RetryPolicy, now: dt.datetime | None = None,
               due_by: dt.datetime | None = None) -> Claim | None:
    """Take the next message due by `due_by` (default now) for one attempt. A conditional
    UPDATE makes the claim, so two workers (two web processes on one PostgreSQL) never hold
    the same message."""
    now = now or utcnow()
    due_by = min(due_by or now, now)
    candidates = session.scalars(select(OutboxMessage.id).where(_due(due_by))
                                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(10)).all()
    for message_id in candidates:
        taken = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, _due(due_by))
            .values(status=SENDING, attempts=OutboxMessage.attempts + 1, lease_until=now + policy.lease,
                    updated_at=now)
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            continue  # another worker was faster
        message = session.get_one(OutboxMessage, message_id, populate_existing=True)
        if is_opted_out(session, message.recipient):
            message.status = OPTED_OUT
            message.lease_until = None
            log.info("sms not sent: recipient opted out",
                     extra={"event": "sms_opted_out", "outbox_id": message.id, "kind": message.kind})
            continue
        earlier = message.first_attempt_at
        if earlier is None:
            message.first_attempt_at = now
        session.flush()
        return Claim(id=message.id, recipient=message.recipient, body=message.body,
                     attempt=message.attempts, first_attempt_at=earlier, kind=message.kind,
                     template_params=message.template_params or free_text_params(message.body))
    return None


def mark_submitted(session: Session, message_id: int, provider_sid: str, provider_status: str | None,
                   now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    # Locked: a receipt committed between our read and our write would be written over (a
    # provider pushes "delivered" before its answer to the send has reached us).
    message = session.get_one(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
    message.status = SUBMITTED
    message.provider_sid = provider_sid
    message.submitted_at = now
    message.lease_until = None
    message.updated_at = now
    # A status callback may have arrived before this commit; keep the later news.
    if provider_status and _rank(provider_status) > _rank(message.delivery_status):
        message.delivery_status = provider_status
    session.flush()
    log.info("sms submitted", extra={"event": "sms_submitted", "outbox_id": message_id, "sid": provider_sid,
                                     "attempt": message.attempts})


def mark_failed(session: Session, message_id: int, error: str, policy: RetryPolicy, *,
                permanent: bool, error_code: str | None = None, now: dt.datetime | None = None) -> str:
    """Record a failed attempt; retry later with backoff, or give up. Returns the new status."""
    now = now or utcnow()
    message = session.get_one(OutboxMessage, message_id)
    message.last_error = error[:2000]
    message.error_code = error_code
    message.lease_until = None
    message.updated_at = now
    if error_code == UNSUBSCRIBED_CODE:
        opt_out(session, message.recipient, "provider", now)
        message.status = OPTED_OUT
    elif permanent or message.attempts >= policy.max_attempts:
        message.status = FAILED
        log.warning("sms given up", extra={"event": "sms_failed", "outbox_id": message_id,
                                           "attempts": message.attempts, "error": error})
    else:
        message.status = PENDING
        message.next_attempt_at = now + policy.delay(message.attempts)
        log.info("sms attempt failed, will retry", extra={"event": "sms_retry", "outbox_id": message_id,
                                                         "attempts": message.attempts, "error": error})
    session.flush()
    return message.status


def _rank(status: str | None) -> int:
    return -1 if status is None else DELIVERY_RANK.get(status, 0)


def apply_delivery_status(session: Session, *, provider_sid: str, status: str, error_code: str | None,
                          outbox_id: int | None = None, now: dt.datetime | None = None) -> OutboxMessage | None:
    """A checked delivery receipt (Twilio's callback, Alibaba's SmsReport). Unknown messages
    are ignored (and logged)."""
    now = now or utcnow()
    # Locked, as mark_submitted locks it: the two may cross.
    message = session.get(OutboxMessage, outbox_id, with_for_update=True,
                          populate_existing=True) if outbox_id is not None else None
    if message is None or not _stands_for(message.provider_sid, provider_sid):
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_sid == provider_sid)
                                 .with_for_update())
    if message is None:
        log.warning("status callback for an unknown message",
                    extra={"event": "sms_status_unknown", "sid": provider_sid, "status": status})
        return None
    if message.provider_sid != provider_sid:
        # The callback beat the worker's own record, or the record was a placeholder.
        message.provider_sid = provider_sid
    if _rank(status) >= _rank(message.delivery_status):
        message.delivery_status = status
        if error_code:
            message.error_code = error_code
    message.updated_at = now
    if status in DELIVERY_FAILED:
        log.warning("sms not delivered", extra={"event": "sms_undelivered", "outbox_id": message.id,
                                                "sid": provider_sid, "error_code": error_code})
        if error_code == UNSUBSCRIBED_CODE:
            opt_out(session, message.recipient, "provider", now)
    session.flush()
    return message


def _stands_for(recorded: str | None, provider_sid: str) -> bool:
    return recorded is None or recorded == provider_sid or recorded.startswith(RECONCILED_PREFIX)


def failed_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """For staff: messages given up on, or that Twilio says never reached the handset."""
    return list(session.scalars(
        select(OutboxMessage)
        .where(or_(OutboxMessage.status == FAILED, OutboxMessage.delivery_status.in_(DELIVERY_FAILED)))
        .order_by(OutboxMessage.id.desc()).limit(limit)))


def messages_of_ticket(session: Session, ticket_id: int) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
                                .order_by(OutboxMessage.id)))
