"""The photos of a citizen's picture message (彩信, MMS): the webhook carries only links to
them on the provider's API, so each link is written down here, in the text's own
transaction, beside the ticket the text created or joined; a worker (web/media_fetcher.py)
fetches it after commit and adds it to the ticket through dispatch/attachments.py, the one
way photos come in: known by their bytes, metadata cut out, within the per-ticket and size
limits, an `attach` event by citizen:sms in the ticket's log.

Each fetch is three short steps like the SMS outbox's: claim with a lease, fetch with no
transaction open, then attach or record the failure. A failed download is tried again with
backoff (the photo is not lost to a provider's bad minute); a photo refused by the checks
(not an image, too large, the ticket full) is refused for good, with the reason kept.
Staff of the centre may have a given-up photo fetched again (重新获取): a new round of
attempts, written in the ticket's log; the link may work again once the provider is back, or
the ticket has room again after a photo was removed."""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dispatch import attachments, lifecycle
from dispatch.actors import DISPATCH_ROLES, Actor, require_role
from dispatch.attachments import AttachmentLimits, Upload
from dispatch.clock import api_time, utcnow
from dispatch.errors import Conflict, NotFound, Reason
from dispatch.models import MediaFetch, Ticket
from dispatch.staff_view import visible_ticket
from dispatch.outbox import RetryPolicy

log = logging.getLogger(__name__)

PENDING, FETCHING, ATTACHED, FAILED = "pending", "fetching", "attached", "failed"
CHANNEL = "sms"
# A provider's outage of a few hours is waited out: 10 attempts from 30 s, doubling, at most
# an hour apart, span about six hours.
POLICY = RetryPolicy(max_attempts=10, base_delay=dt.timedelta(seconds=30), max_delay=dt.timedelta(hours=1),
                     lease=dt.timedelta(minutes=2))
MAX_URL = 500
REFETCH = "refetch_media"
# A link in an error, shown as its scheme and host only: the provider's path names the account,
# a signed address's query is a credential while it lasts.
_LINK = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^\s/@'\"]*@)?([^\s/:?#'\"]+)[^\s'\"]*")


@dataclass(frozen=True)
class Claim:
    id: int
    ticket_id: int
    url: str
    attempt: int


def enqueue(session: Session, ticket_id: int, message_sid: str, urls: Sequence[str],
            declared_types: Sequence[str | None] = (), now: dt.datetime | None = None) -> list[MediaFetch]:
    """One fetch per link of the message, due at once; the caller commits with the text."""
    now = now or utcnow()
    types = list(declared_types) + [None] * (len(urls) - len(declared_types))
    rows = [MediaFetch(ticket_id=ticket_id, message_sid=message_sid, position=i, url=url[:MAX_URL],
                       declared_type=(kind or None) and kind[:100], status=PENDING, attempts=0,
                       next_attempt_at=now, created_at=now, updated_at=now)
            for i, (url, kind) in enumerate(zip(urls, types))]
    session.add_all(rows)
    session.flush()
    return rows


def _due(by: dt.datetime) -> Any:
    return or_((MediaFetch.status == PENDING) & (MediaFetch.next_attempt_at <= by),
               (MediaFetch.status == FETCHING) & (MediaFetch.lease_until < by))


def claim_next(session: Session, policy: RetryPolicy = POLICY, now: dt.datetime | None = None,
               due_by: dt.datetime | None = None) -> Claim | None:
    """The next due fetch for one attempt, taken by a conditional UPDATE (two workers never
    hold the same one); a fetch whose worker died is taken over when its lease ends."""
    now = now or utcnow()
    due_by = min(due_by or now, now)
    candidates = session.scalars(select(MediaFetch.id).where(_due(due_by))
                                 .order_by(MediaFetch.next_attempt_at, MediaFetch.id).limit(10)).all()
    for fetch_id in candidates:
        taken = session.execute(
            update(MediaFetch).where(MediaFetch.id == fetch_id, _due(due_by))
            .values(status=FETCHING, attempts=MediaFetch.attempts + 1, lease_until=now + policy.lease,
                    updated_at=now)
            .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            continue
        row = session.get_one(MediaFetch, fetch_id, populate_existing=True)
        return Claim(id=row.id, ticket_id=row.ticket_id, url=row.url, attempt=row.attempts)
    return None


def attach(session: Session, claim_id: int, data: bytes, limits: AttachmentLimits,
           now: dt.datetime | None = None) -> int:
    """Add the fetched bytes to the ticket as the citizen's photo (attachments.add: checked,
    stripped, an `attach` event); the photo's id. InvalidInput when the checks refuse it:
    the caller rolls back and records the refusal (refused())."""
    now = now or utcnow()
    row = session.get_one(MediaFetch, claim_id)
    ticket = session.get_one(Ticket, row.ticket_id)
    added = attachments.add(session, ticket, Actor.citizen(CHANNEL), [Upload(name="", data=data)], limits, now=now)
    row.status, row.attachment_id, row.lease_until, row.last_error, row.updated_at = \
        ATTACHED, added[0].id, None, None, now
    session.flush()
    log.info("mms photo attached", extra={"event": "mms_photo_attached", "fetch": row.id, "ticket_id": ticket.id,
                                          "attachment": added[0].id, "attempt": row.attempts})
    return added[0].id


def refused(session: Session, claim_id: int, reason: str, now: dt.datetime | None = None) -> None:
    """The photo will never be taken (not an image, too large, the ticket full, a link not
    to the provider): given up at once, the reason kept for staff and the log."""
    now = now or utcnow()
    row = session.get_one(MediaFetch, claim_id)
    row.status, row.lease_until, row.last_error, row.updated_at = FAILED, None, reason[:2000], now
    session.flush()
    log.warning("mms photo refused", extra={"event": "mms_photo_refused", "fetch": row.id,
                                            "ticket_id": row.ticket_id, "error": reason})


def failed(session: Session, claim_id: int, error: str, policy: RetryPolicy = POLICY,
           now: dt.datetime | None = None) -> str:
    """A download that did not work: again after the backoff, given up after
    policy.max_attempts; the status now."""
    now = now or utcnow()
    row = session.get_one(MediaFetch, claim_id)
    row.last_error, row.lease_until, row.updated_at = error[:2000], None, now
    if row.attempts >= policy.max_attempts:
        row.status = FAILED
        log.warning("mms photo given up", extra={"event": "mms_photo_failed", "fetch": row.id,
                                                 "ticket_id": row.ticket_id, "attempts": row.attempts, "error": error})
    else:
        row.status, row.next_attempt_at = PENDING, now + policy.delay(row.attempts)
        log.info("mms photo fetch failed, will retry", extra={"event": "mms_photo_retry", "fetch": row.id,
                                                              "attempts": row.attempts, "error": error})
    session.flush()
    return row.status


def outstanding(session: Session, ticket_id: int) -> dict[str, int]:
    """How many of the ticket's picture-message photos are still being fetched (`waiting`)
    and how many were given up (`failed`): staff are told, the links staying in the text."""
    rows = session.execute(select(MediaFetch.status, func.count()).where(
        MediaFetch.ticket_id == ticket_id, MediaFetch.status != ATTACHED).group_by(MediaFetch.status)).all()
    counts = dict(rows)
    return {"waiting": counts.get(PENDING, 0) + counts.get(FETCHING, 0), "failed": counts.get(FAILED, 0)}


def of_ticket(session: Session, ticket_id: int) -> list[MediaFetch]:
    return list(session.scalars(select(MediaFetch).where(MediaFetch.ticket_id == ticket_id).order_by(MediaFetch.id)))


def fetch_again(session: Session, actor: Actor, number: str, fetch_id: int, *,
                now: dt.datetime | None = None) -> MediaFetch:
    """重新获取: a fetch given up (after its attempts, or refused) starts a new round, due at
    once, its attempts counted from 0 and the last error kept until the next attempt; a
    `refetch_media` event in the ticket's log says who asked and how the last round ended.
    The centre's staff only (operators, supervisors, admins); NotFound as for a photo, for a
    fetch of another ticket; Conflict for one still under way or already attached."""
    require_role(actor, DISPATCH_ROLES, "fetch a picture message's photo again")
    ticket = visible_ticket(session, actor, number)
    row = session.get(MediaFetch, fetch_id)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound(Reason.MEDIA_FETCH_NOT_FOUND, number=number, fetch_id=fetch_id)
    lifecycle.lock(ticket)
    session.refresh(row)
    if row.status != FAILED:
        raise Conflict(Reason.MEDIA_FETCH_NOT_GIVEN_UP, number=number, status=row.status)
    now = now or utcnow()
    data = {"fetch": row.id, "position": row.position, "attempts": row.attempts, "last_error": shown_error(row.last_error)}
    row.status, row.attempts, row.next_attempt_at, row.lease_until, row.updated_at = PENDING, 0, now, None, now
    session.flush()
    lifecycle.record(session, ticket, REFETCH, actor, now=now, data=data)
    log.info("mms photo fetched again", extra={"event": "mms_photo_refetch", "fetch": row.id,
                                               "ticket_id": ticket.id, "actor": actor.label})
    return row


def shown_error(error: str | None) -> str | None:
    """The error as staff see it: any link in it cut to its scheme and host."""
    return _LINK.sub(lambda m: f"{m.group(1)}://{m.group(2)}/…", error) if error else error


def described(session: Session, ticket_id: int) -> list[dict[str, object]]:
    """The ticket's picture-message photos not on it (yet), as the staff API gives them:
    each fetch still under way or given up, with its attempts and last error; never its link
    (the provider's address of the account's media)."""
    return [{"id": r.id, "message_sid": r.message_sid, "position": r.position, "status": r.status,
             "attempts": r.attempts, "last_error": shown_error(r.last_error),
             "next_attempt_at": api_time(r.next_attempt_at) if r.status == PENDING else None,
             "updated_at": api_time(r.updated_at)}
            for r in of_ticket(session, ticket_id) if r.status != ATTACHED]
