"""Signed webhooks for units' own case systems (数字城管, 信访...): each transfer to a unit,
each reopen, and every notice in the unit's inbox (督办, 协办, 二次派单, decisions, 市民补充...)
is POSTed as JSON to the URL the unit registered, signed with its secret, so nobody retypes a
ticket.

Like the SMS outbox, a delivery is written by a before_flush hook in the transaction of the
change it tells about (install()), whichever code made the change, and sent after commit by
a worker (web/webhook_sender.py) with retries and exponential backoff; the rows are the
unit's delivery log.

Signature (as Stripe's): header X-Hotline-Signature: t=UNIX,v1=HEX where HEX is
HMAC-SHA256(secret, f"{t}.{body}"); a receiver recomputes it over the raw body and refuses a
timestamp older than a few minutes, so a captured delivery cannot be replayed later.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.actors import Actor, require_role
from dispatch.clock import api_time, utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.masking import mask_phone, mask_text
from dispatch.models import CatalogueEntry, Notice, Ticket, TicketEvent, Unit, UnitWebhook, WebhookDelivery
from dispatch.notices import NoticeKind
from dispatch.outbox import RetryPolicy
from dispatch.staff_activity import ActivityKind, record
from dispatch.staff_view import HIDDEN
from dispatch.vocabulary import Role

log = logging.getLogger(__name__)

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
SIGNATURE_HEADER = "X-Hotline-Signature"
DELIVERY_HEADER = "X-Hotline-Delivery"
EVENT_HEADER = "X-Hotline-Event"
# What a receiver should accept: a timestamp at most this old (or this far ahead).
REPLAY_WINDOW = dt.timedelta(minutes=5)
MAX_URL = 500
# Ticket events a unit's system hears of. Every transfer and reopen is such an event, also
# where no notice is written (a transfer made in code), so these two come from the event and
# their notices (transferred, reopened) are not sent again.
EVENT_TYPES = {"transfer": "ticket.transferred", "reopen": "ticket.reopened"}
TOLD_BY_EVENT = frozenset({NoticeKind.TRANSFERRED.value, NoticeKind.REOPENED.value})
# Every other notice a unit's inbox gets, as notice.KIND (督办 kept its first name). The kinds
# told to supervisors (dispatch/staff_notices.py) are named alike, and go to no unit's system.
NOTICE_TYPES = {kind.value: "ticket.escalated" if kind is NoticeKind.ESCALATION else f"notice.{kind.value}"
                for kind in NoticeKind if kind.value not in TOLD_BY_EVENT}
# The key every 超期 notice is told under (dispatch/chasing.py: kind, ticket, deadline).
OVERDUE_KEY = f"{NoticeKind.OVERDUE.value}:"
_ENQUEUED = "webhooks_enqueued"


@dataclass
class _Options:
    # HOTLINE_PUBLIC_URL without its trailing slash: the payload's ticket.api_url; None: unset.
    public_url: str | None = None


_INSTALLED: weakref.WeakKeyDictionary[sessionmaker[Session], _Options] = weakref.WeakKeyDictionary()


# ---- registration -----------------------------------------------------------------------

def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


ADMINS = frozenset({Role.ADMIN})


def register(session: Session, actor: Actor, unit: Unit, url: str, now: dt.datetime | None = None, *,
             allow_private: bool = False) -> str:
    """Set the unit's webhook URL with a new secret; returns the secret (shown once).
    `allow_private` (HOTLINE_WEBHOOK_ALLOW_PRIVATE): a loopback or private address is taken."""
    require_role(actor, ADMINS, "设置单位对接地址")
    url = url.strip()
    parts = urlsplit(url)
    if not url:
        raise InvalidInput("webhook_url", Reason.REQUIRED)
    if len(url) > MAX_URL:
        raise InvalidInput("webhook_url", Reason.TOO_LONG, limit=MAX_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhook_url", Reason.WEBHOOK_URL_INVALID, value=url)
    if never_a_receiver(parts.hostname, allow_private=True):
        raise InvalidInput("webhook_url", Reason.WEBHOOK_URL_LOCAL, value=url)
    if not allow_private and (never_a_receiver(parts.hostname) or _this_host_name(parts.hostname)):
        raise InvalidInput("webhook_url", Reason.WEBHOOK_URL_PRIVATE, value=url)
    now = now or utcnow()
    secret = new_secret()
    found = session.get(UnitWebhook, unit.id)
    if found is None:
        session.add(UnitWebhook(unit_id=unit.id, url=url, secret=secret, created_at=now, updated_at=now))
    else:
        found.url, found.secret, found.updated_at = url, secret, now
    session.flush()
    record(session, ActivityKind.WEBHOOK_SET, actor, target=unit.code, detail={"url": url}, now=now)
    log.info("unit webhook set", extra={"event": "webhook_registered", "unit": unit.code})
    return secret


def never_a_receiver(host: str, *, allow_private: bool = False) -> bool:
    """An address the hotline must not post to. Never: link-local (a cloud's metadata service
    at 169.254.169.254 among them), multicast, unspecified or reserved. Unless
    `allow_private` (a closed city network whose units' systems sit on 政务外网 or on this
    host): loopback, private (RFC 1918, IPv6 unique local) and any other address not on the
    public internet, since a staff account registering a webhook would otherwise make the
    server call its own internal services (SSRF). A name is not checked here: it is
    checked once resolved, when delivering."""
    address = _address(host)
    if address is None:
        return False
    if address.is_loopback:   # before reserved: ::1 is in ::/8, which is reserved
        return not allow_private
    if address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved:
        return True
    return not allow_private and (address.is_private or not address.is_global)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a URL's host names literally, also in the shorthand forms a resolver
    takes (127.1, 2130706433, 0x7f.0.0.1); None for a name."""
    text = host.strip("[]").split("%")[0]
    if ":" not in text:
        text = text.rstrip(".")   # 127.0.0.1. resolves as 127.0.0.1 does
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not text or not all(c in "0123456789abcdefxABCDEFX." for c in text):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address


def _this_host_name(host: str) -> bool:
    """localhost and its subdomains always name this host (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def remove(session: Session, actor: Actor, unit: Unit) -> None:
    require_role(actor, ADMINS, "删除单位对接地址")
    found = session.get(UnitWebhook, unit.id)
    if found is not None:
        session.delete(found)
        session.flush()
        record(session, ActivityKind.WEBHOOK_REMOVED, actor, target=unit.code, detail={"url": found.url})
        log.info("unit webhook removed", extra={"event": "webhook_removed", "unit": unit.code})


def webhook_of(session: Session, unit_id: int) -> UnitWebhook | None:
    return session.get(UnitWebhook, unit_id)


def deliveries_of(session: Session, unit_id: int, limit: int = 20) -> list[tuple[WebhookDelivery, str | None]]:
    """The unit's delivery log, newest first, each with its ticket's number."""
    rows = session.execute(select(WebhookDelivery, Ticket.number)
                           .outerjoin(Ticket, Ticket.id == WebhookDelivery.ticket_id)
                           .where(WebhookDelivery.unit_id == unit_id)
                           .order_by(WebhookDelivery.id.desc()).limit(limit))
    return [(delivery, number) for delivery, number in rows]


# ---- signing ------------------------------------------------------------------------------

def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: dt.datetime | None = None,
           window: dt.timedelta = REPLAY_WINDOW) -> bool:
    """What a receiver does (the README's snippet is the same): the signature over the raw
    body, and a timestamp within the replay window."""
    fields = dict(part.partition("=")[::2] for part in header.split(","))
    stamp = fields.get("t", "")
    if not stamp.isdigit():
        return False
    moment = (now or utcnow()).timestamp()
    if abs(moment - int(stamp)) > window.total_seconds():
        return False
    return hmac.compare_digest(signature(secret, int(stamp), body), fields.get("v1", ""))


# ---- enqueue ------------------------------------------------------------------------------

def install(factory: sessionmaker[Session], on_commit: Callable[[], None] | None = None,
            public_url: str | None = None) -> None:
    """Make every session of `factory` write deliveries for the changes it flushes;
    `on_commit` wakes the sender after a commit that wrote one; `public_url` (the site's
    HOTLINE_PUBLIC_URL) makes each ticket's API address absolute too."""
    options = _INSTALLED.get(factory)
    if options is None:
        options = _INSTALLED[factory] = _Options()

        def before_flush(session: Session, context: Any, instances: Any) -> None:
            on_flush(session, context, instances, public_url=options.public_url)
        event.listen(factory, "before_flush", before_flush)
    if public_url:
        options.public_url = public_url.rstrip("/")
    if on_commit is not None:
        def after_commit(session: Session) -> None:
            if session.info.pop(_ENQUEUED, False):
                on_commit()

        def after_rollback(session: Session) -> None:
            session.info.pop(_ENQUEUED, None)

        event.listen(factory, "after_commit", after_commit)
        event.listen(factory, "after_rollback", after_rollback)


def on_flush(session: Session, _context: Any, _instances: Any, public_url: str | None = None) -> None:
    for obj in list(session.new):
        if isinstance(obj, TicketEvent) and obj.action in EVENT_TYPES:
            ticket = obj.__dict__.get("ticket") or session.get(Ticket, obj.ticket_id)
            unit_id = obj.unit_id or (ticket.unit_id if ticket else None)
            if ticket is not None and unit_id is not None:
                _enqueue(session, unit_id, EVENT_TYPES[obj.action], ticket, note=obj.note, at=obj.at,
                         public_url=public_url)
        elif isinstance(obj, Notice) and obj.unit_id is not None and notice_type(obj) is not None:
            # (A supervisor's notice has no unit, and so no unit's system to hear it.)
            ticket = session.get(Ticket, obj.ticket_id) if obj.ticket_id else None
            _enqueue(session, obj.unit_id, notice_type(obj), ticket, note=obj.text, at=obj.created_at,
                     notice_kind=obj.kind, public_url=public_url)


def notice_type(notice: Notice) -> str | None:
    """The event a notice goes out as: its kind's, but a notice told under a 超期 key is the
    ticket going overdue, whatever it says: a ticket first found overdue when a 督办 step is
    already due hears one notice, that step's 督办 (chasing.mark_overdue), and a unit's system
    must still hear it went overdue, as notice.overdue, not as a supervisor's ticket.escalated."""
    if notice.key.startswith(OVERDUE_KEY):
        return NOTICE_TYPES[NoticeKind.OVERDUE.value]
    return NOTICE_TYPES.get(notice.kind)


def _enqueue(session: Session, unit_id: int, event_type: str, ticket: Ticket | None, *, note: str | None,
             at: dt.datetime | None, notice_kind: str | None = None, public_url: str | None = None) -> None:
    hook = session.get(UnitWebhook, unit_id)
    if hook is None:
        return
    unit = session.get_one(Unit, unit_id)
    now = utcnow()
    delivery_id = "evt_" + uuid.uuid4().hex
    body: dict[str, Any] = {"id": delivery_id, "type": event_type, "created_at": api_time(at or now),
                            "unit": {"code": unit.code, "name": unit.name}, "note": note or None}
    if notice_kind is not None:
        body["notice"] = {"kind": notice_kind, "text": note or ""}
    if ticket is not None:
        body["ticket"] = _ticket(session, ticket, public_url)
        if ticket.confidential and note:
            body["note"] = _hidden_from_unit(ticket, note)
    session.add(WebhookDelivery(delivery_id=delivery_id, unit_id=unit_id, ticket_id=ticket.id if ticket else None,
                                event_type=event_type, status=PENDING, attempts=0, next_attempt_at=now,
                                created_at=now, updated_at=now,
                                payload=json.dumps(body, ensure_ascii=False, separators=(",", ":"))))
    session.info[_ENQUEUED] = True


def _hidden_from_unit(ticket: Ticket, text: str) -> str:
    """A 保密 ticket's text as its unit's staff read it on the ticket's page."""
    return mask_text(text, [ticket.name] if ticket.name else [])


def _ticket(session: Session, ticket: Ticket, public_url: str | None) -> dict[str, Any]:
    """What the unit's system needs to open its own case; the rest (and the citizen's full
    number) through GET /api/v1/staff/tickets/{number} with the unit's token. A 保密 ticket
    goes out as the unit's staff see it (staff_view): no phone or place, the name masked.
    `category` is the level-1 name; `catalogue_entry` the dispatch catalogue entry (level 3)."""
    hide = ticket.confidential
    api = f"/api/v1/staff/tickets/{ticket.number}"
    return {"number": ticket.number, "state": ticket.state,
            "title": _hidden_from_unit(ticket, ticket.title) if hide else ticket.title,
            "body": _hidden_from_unit(ticket, ticket.body) if hide else ticket.body,
            "category": ticket.category, "catalogue_entry": _entry(session, ticket.catalogue_entry_id),
            "location": HIDDEN if hide and ticket.location else ticket.location,
            "urgency": ticket.urgency, "request_type": ticket.request_type, "confidential": ticket.confidential,
            "phone": (HIDDEN if hide else mask_phone(ticket.phone)) if ticket.phone else None,
            "received_at": api_time(ticket.received_at) if ticket.received_at else None,
            "deadline": api_time(ticket.deadline) if ticket.deadline else None,
            "api": api, "api_url": public_url + api if public_url else None}


def _entry(session: Session, entry_id: int | None) -> dict[str, str] | None:
    entry = session.get(CatalogueEntry, entry_id) if entry_id is not None else None
    if entry is None:
        return None
    return {"code": entry.code, "name": entry.level3, "path": f"{entry.level1}/{entry.level2}/{entry.level3}"}


# ---- claim and record --------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    id: int
    delivery_id: str
    event_type: str
    url: str
    secret: str
    payload: bytes
    attempt: int


def _due(by: dt.datetime) -> Any:
    return or_((WebhookDelivery.status == PENDING) & (WebhookDelivery.next_attempt_at <= by),
               (WebhookDelivery.status == SENDING) & (WebhookDelivery.lease_until < by))


def claim_next(session: Session, policy: RetryPolicy, now: dt.datetime | None = None,
               due_by: dt.datetime | None = None) -> Claim | None:
    """The next due delivery for one attempt, taken by a conditional UPDATE (two senders
    never hold the same one). A unit that removed its webhook meanwhile: given up."""
    now = now or utcnow()
    due_by = min(due_by or now, now)
    candidates = session.scalars(select(WebhookDelivery.id).where(_due(due_by))
                                 .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(10)).all()
    for delivery_id in candidates:
        taken = session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _due(due_by))
            .values(status=SENDING, attempts=WebhookDelivery.attempts + 1, lease_until=now + policy.lease,
                    updated_at=now)
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            continue
        delivery = session.get_one(WebhookDelivery, delivery_id, populate_existing=True)
        hook = session.get(UnitWebhook, delivery.unit_id)
        if hook is None:
            delivery.status, delivery.lease_until, delivery.last_error = FAILED, None, "webhook removed"
            session.flush()
            continue
        return Claim(id=delivery.id, delivery_id=delivery.delivery_id, event_type=delivery.event_type,
                     url=hook.url, secret=hook.secret, payload=delivery.payload.encode(), attempt=delivery.attempts)
    return None


def mark_delivered(session: Session, claim_id: int, response_status: int, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    delivery = session.get_one(WebhookDelivery, claim_id)
    delivery.status, delivery.response_status, delivery.delivered_at = DELIVERED, response_status, now
    delivery.lease_until, delivery.last_error, delivery.updated_at = None, None, now
    session.flush()
    log.info("webhook delivered", extra={"event": "webhook_delivered", "delivery": delivery.delivery_id,
                                         "attempt": delivery.attempts})


def mark_failed(session: Session, claim_id: int, error: str, policy: RetryPolicy, *,
                response_status: int | None = None, now: dt.datetime | None = None) -> str:
    """A failed attempt: again after the backoff, or given up after policy.max_attempts."""
    now = now or utcnow()
    delivery = session.get_one(WebhookDelivery, claim_id)
    delivery.last_error, delivery.response_status = error[:2000], response_status
    delivery.lease_until, delivery.updated_at = None, now
    if delivery.attempts >= policy.max_attempts:
        delivery.status = FAILED
        log.warning("webhook given up", extra={"event": "webhook_failed", "delivery": delivery.delivery_id,
                                               "attempts": delivery.attempts, "error": error})
    else:
        delivery.status = PENDING
        delivery.next_attempt_at = now + policy.delay(delivery.attempts)
        log.info("webhook attempt failed, will retry",
                 extra={"event": "webhook_retry", "delivery": delivery.delivery_id, "attempts": delivery.attempts,
                        "error": error})
    session.flush()
    return delivery.status


def redeliver(session: Session, actor: Actor, unit_id: int, delivery_row_id: int,
              now: dt.datetime | None = None) -> bool:
    """An administrator sends a given-up delivery again (from the unit's page)."""
    require_role(actor, ADMINS, "重发对接消息")
    now = now or utcnow()
    delivery = session.get(WebhookDelivery, delivery_row_id)
    if delivery is None or delivery.unit_id != unit_id or delivery.status != FAILED:
        return False
    unit_code = session.scalar(select(Unit.code).where(Unit.id == unit_id))
    # The row is reset in place: the attempts given up stay in the activity log's detail.
    record(session, ActivityKind.WEBHOOK_REDELIVERED, actor, target=unit_code, now=now,
           detail={"delivery": delivery.delivery_id, "event": delivery.event_type, "attempts": delivery.attempts,
                   "last_error": (delivery.last_error or "")[:200] or None})
    delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.updated_at = PENDING, 0, now, now
    session.flush()
    session.info[_ENQUEUED] = True
    return True
