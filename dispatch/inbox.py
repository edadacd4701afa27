"""What a citizen's text message does to tickets: the SMS channel's rules, behind the same
intake and lifecycle as every other channel.

- A message is logged once per provider id (MessageSid) with the reply it got, so a retried
  webhook is answered the same and changes nothing. The log row is written with the work
  it caused; of two concurrent deliveries one fails on the unique MessageSid at commit and
  is run again by the caller, finding the other's reply (see earlier_reply()).
- A message from a number whose last text went into a still-open ticket less than
  ATTACH_WINDOW ago, or any message starting with 补充, adds to that open ticket instead of
  opening a new one; 新诉求 forces a new ticket.
- A status query answers only for a ticket filed from the same number, or given with its
  query code; anything else is answered exactly like an unknown number. A query for another
  number's ticket is a lookup limited like the web's and the API's (limits.limited_lookup):
  wrong codes count per sending number and per ticket.
- A rating (1/2/3) applies to the number's latest resolved ticket that was sent the rating
  question; 3 (unsatisfied) reopens it through lifecycle.rate().
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, or_, select
from sqlalchemy.orm import Session, aliased

from dispatch import follow_up, lifecycle, notices
from dispatch.actors import Actor
from dispatch.intake import IntakeRequest, IntakeResult, IntakeRules, add_source, intake
from dispatch.limits import Limits, limited_lookup
from dispatch.models import IntakeSource, OutboxMessage, SmsInbound, Ticket
from dispatch.notifications import Kind
from dispatch.routing import Router, RoutingAnswer
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import Channel, Rating

ATTACH_WINDOW = dt.timedelta(minutes=30)
SMS_ACTOR = Actor.citizen(Channel.SMS.value)
_OPEN = [s.value for s in State if s not in FINISHED_STATES]


# Statements built once: building them per message cost more than running them.
_REPLY_BY_SID = select(SmsInbound.id, SmsInbound.reply).where(SmsInbound.message_sid == bindparam("sid"))
_LOG = insert(SmsInbound.__table__)
_OPEN_OF_PHONE = (select(Ticket).where(Ticket.phone == bindparam("phone"), Ticket.state.in_(_OPEN))
                  .order_by(Ticket.received_at.desc(), Ticket.id.desc()))
_LAST_TEXT = (select(IntakeSource.received_at)
              .where(IntakeSource.ticket_id == bindparam("ticket_id"), IntakeSource.channel == Channel.SMS.value)
              .order_by(IntakeSource.received_at.desc()).limit(1))


@dataclass(frozen=True)
class Handled:
    """A message already handled (a provider retry): the reply it got, if any."""
    reply: str | None


def earlier_record(session: Session, message_sid: str) -> Handled | None:
    """How a message was handled before, if it was."""
    row = session.connection().execute(_REPLY_BY_SID, {"sid": message_sid}).first()
    return None if row is None else Handled(reply=row.reply)


def log_inbound(session: Session, message_sid: str, sender: str, body: str, now: dt.datetime, *,
                intent: str, reply: str | None, ticket_id: int | None) -> None:
    # A plain INSERT on the transaction's connection: the log is append-only and needs none
    # of the flush hooks, and a flush of its own cost more than everything else it does.
    session.connection().execute(_LOG, {"message_sid": message_sid, "sender": sender, "received_at": now,
                                        "body": body, "intent": intent, "reply": reply,
                                        "ticket_id": ticket_id})


@dataclass(frozen=True)
class Taken:
    ticket: Ticket
    created: bool
    repeat: bool = False      # the same request again (intake's own rule)
    attached: bool = False    # more about an open ticket


def take_text(session: Session, *, phone: str, body: str, message_sid: str, rules: IntakeRules,
              now: dt.datetime, addition: bool = False, force_new: bool = False,
              router: Router | None = None, proposal: RoutingAnswer | None = None) -> Taken:
    """A free-text message: a new request, or an addition to the sender's open ticket.

    Called within answer(), which has already found the MessageSid new in the inbox log
    (written in the same transaction as the source): intake need not look it up again."""
    open_tickets = list(session.scalars(_OPEN_OF_PHONE, {"phone": phone}))
    target = None if force_new else _ticket_to_add_to(session, open_tickets, now, explicit=addition)
    if target is not None:
        attach(session, target, body=body, channel_ref=message_sid, now=now)
        return Taken(target, created=False, attached=True)
    result: IntakeResult = intake(session, IntakeRequest(channel=Channel.SMS, body=body, phone=phone,
                                                         channel_ref=message_sid), rules, now=now,
                                   router=router, proposal=proposal, ref_checked=True,
                                   open_tickets=open_tickets)
    return Taken(result.ticket, created=result.created, repeat=result.repeat_of_open_ticket)


def _ticket_to_add_to(session: Session, open_tickets: list[Ticket], now: dt.datetime, *,
                      explicit: bool) -> Ticket | None:
    latest = open_tickets[0] if open_tickets else None
    if latest is None or explicit:
        return latest
    last_text = session.scalar(_LAST_TEXT, {"ticket_id": latest.id})
    if last_text is not None and now - last_text <= ATTACH_WINDOW:
        return latest
    return None


def attach(session: Session, ticket: Ticket, *, body: str, channel_ref: str, now: dt.datetime) -> None:
    """Keep the message as a source of the ticket, on the timeline as the citizen's addition
    (市民补充, not a repeat of the request), and tell the unit holding it.

    The ticket's row is locked first. Writing the source takes a share lock on it (the
    foreign key), and texts that each held one while waiting for the event's lock
    (audit.last_hash) deadlocked on PostgreSQL: a second lost per text, and a burst ran out
    of runs. Behind the lock they go one after the other; a ticket changed meanwhile (closed,
    say) is a Conflict, and the text runs again and finds it as it now is."""
    lifecycle.lock(ticket)
    add_source(session, ticket, Channel.SMS, channel_ref, body, now)
    event = lifecycle.record(session, ticket, "addition", SMS_ACTOR, now=now, note=body,
                             data={"channel": Channel.SMS.value, "channel_ref": channel_ref})
    notices.tell_addition(session, ticket, event, now=now)


def ticket_for_status(session: Session, phone: str, number: str | None, code: str | None, limits: Limits,
                      now: dt.datetime | None = None) -> Ticket | None:
    """The ticket a status query may see, or None (unknown and not-yours look the same).
    Another number's ticket is looked up by its code within the lookup limits: RateLimited
    once the sending number, or the ticket, had too many wrong codes, even with the right one."""
    if number is None:
        return session.scalar(select(Ticket).where(Ticket.phone == phone)
                              .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(1))
    own = session.scalar(select(Ticket).where(Ticket.number == number, Ticket.phone == phone))
    if own is not None:  # the sender's own ticket: nothing guessed
        return own
    return limited_lookup(session, limits, number, code or "", f"sms:{phone}", now)


def rate_by_text(session: Session, phone: str, rating: Rating, now: dt.datetime,
                 reopening: lifecycle.Reopening | None = None) -> Ticket | None:
    """回访 by SMS: rate the latest resolved ticket of this number that was asked to be rated
    (its own, or the main ticket its duplicate was merged into)."""
    ticket = ticket_to_rate(session, phone)
    if ticket is None:
        return None
    follow_up.rate_as_citizen(session, ticket, rating, SMS_ACTOR, note="短信回访", now=now, reopening=reopening)
    return ticket


def ticket_to_rate(session: Session, phone: str) -> Ticket | None:
    """The ticket of this number waiting for its rating by text, if any."""
    def asked(kind: Kind) -> Any:
        return exists().where(OutboxMessage.ticket_id == Ticket.id, OutboxMessage.kind == kind.value)

    # A duplicate waits only while its main ticket has a result (follow_up.may_rate): a main
    # reopened since is being handled again, and rating it would fail.
    main = aliased(Ticket, name="main_ticket")
    main_has_result = exists().where(main.id == Ticket.merged_into_id, main.state.in_(
        [State.RESOLVED.value, State.CLOSED.value, State.ANSWERED.value]))
    waiting = or_(and_(Ticket.state == State.RESOLVED.value, asked(Kind.RESOLVED)),
                  and_(Ticket.state == State.MERGED.value, Ticket.rating.is_(None), asked(Kind.MAIN_RESOLVED),
                       main_has_result))
    return session.scalar(select(Ticket).where(Ticket.phone == phone, waiting)
                          .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1))
