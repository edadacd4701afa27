"""Many API intakes in one transaction, with about the statements of one.

Filed one after another, each ticket cost its own statements: the day's number, the ticket,
its event, the running totals, its source, the address's rate counter, the contact's open
tickets, and a savepoint around them. Here a batch is read and written together: one rate
counter upsert per address, one query for every phone's open tickets, one block of numbers,
one flush for all the tickets and their `receive` events (the flush hooks see them all at
once: running totals, outbox, webhooks) and one insert for all the sources.

The answers are those of intake() called for each request in order, in one transaction:
an invalid request gets its InvalidInput, a request past its address's limit RateLimited
(neither is counted nor numbered), and a repeat joins the open ticket it repeats, filed
before it or earlier in the same batch. Repeats are rare, and go through intake() itself
once the new tickets are written, each in a savepoint of its own.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from classifier.features import message_text
from dispatch import rate_counters
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, RateLimited, Reason
from dispatch.intake import (
    _INSERT_SOURCE,
    IntakeRequest,
    IntakeResult,
    IntakeRules,
    _Clean,
    _create,
    _receive,
    _source_row,
    _validate,
    fingerprint,
    intake,
    places_for,
)
from dispatch.limits import Limits, count_intake
from dispatch.models import Ticket
from dispatch.numbering import next_numbers
from dispatch.routing import Router, RoutingAnswer
from dispatch.states import FINISHED_STATES

Outcome = tuple[bool, Any]  # (True, IntakeResult) or (False, the exception its request gets)


@dataclass(frozen=True)
class Submission:
    """One request of a batch: what was posted, routing's proposal made before the
    transaction (proposal_for), and the address its intake counts against."""

    request: IntakeRequest
    proposal: RoutingAnswer | None
    client: str


_OPEN_TEXTS_OF_CONTACTS = (
    select(Ticket.phone, Ticket.body)
    .where(Ticket.phone.in_(bindparam("phones", expanding=True)), Ticket.received_at >= bindparam("since"),
           Ticket.state.not_in([s.value for s in FINISHED_STATES]))
)


def intake_many(session: Session, submissions: Sequence[Submission], rules: IntakeRules, limits: Limits, *,
                router: Router | None = None, now: dt.datetime | None = None) -> list[Outcome]:
    """Each submission's outcome, in order. Requests with a channel reference (a retried
    webhook) are not for this path: intake() checks those one by one."""
    if any(s.request.channel_ref for s in submissions):
        raise ValueError("intake_many takes requests without a channel reference")
    now = now or utcnow()
    outcomes: list[Outcome | None] = [None] * len(submissions)
    clean: dict[int, _Clean] = {}
    for i, submission in enumerate(submissions):
        try:
            clean[i] = _validate(submission.request, rules)
        except InvalidInput as exc:
            outcomes[i] = (False, exc)
    _count(session, submissions, clean, outcomes, limits, now)
    accepted = [i for i in clean if outcomes[i] is None]
    new, repeats = _split_repeats(session, [(i, clean[i]) for i in accepted], now - rules.repeat_window)
    if new:
        rules.policy.calendar.sync(session)
        places = places_for(session, router)
        tickets = []
        for i, number in zip(new, next_numbers(session, now, len(new))):
            submission = submissions[i]
            proposal = submission.proposal
            if proposal is None and router is not None:
                proposal = router.route(message_text(clean[i].title, clean[i].body), clean[i].location)
            ticket = _create(session, submission.request, clean[i], rules, now, proposal, number, places)
            _receive(session, ticket, Actor.citizen(submission.request.channel.value), now)
            tickets.append(ticket)
        session.flush()  # every ticket and event at once: the sources need the tickets' ids
        # intake() gives each source a reference of its own when the channel has none.
        session.connection().execute(_INSERT_SOURCE, [
            _source_row(ticket, submissions[i].request.channel, uuid.uuid4().hex, clean[i].body, now,
                        submissions[i].request.call_linkedid)
            for i, ticket in zip(new, tickets)])
        for i, ticket in zip(new, tickets):
            outcomes[i] = (True, IntakeResult(ticket=ticket, created=True))
    for i in repeats:
        savepoint = session.begin_nested()
        try:
            result = intake(session, submissions[i].request, rules, router=router,
                            proposal=submissions[i].proposal, now=now)
        except Exception as exc:
            if savepoint.is_active:
                savepoint.rollback()
            outcomes[i] = (False, exc)
        else:
            savepoint.commit()
            outcomes[i] = (True, result)
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


def intake_one(session: Session, submission: Submission, rules: IntakeRules, limits: Limits, *,
               router: Router | None = None) -> IntakeResult:
    """One submission alone, as intake_many() would answer it in a batch of its own."""
    try:
        result = intake(session, submission.request, rules, router=router, proposal=submission.proposal)
    except InvalidInput:
        count_intake(session, limits, submission.client)  # past the limit: 429 first
        raise
    # Counted last: its row stays locked until the commit.
    count_intake(session, limits, submission.client)
    return result


def _count(session: Session, submissions: Sequence[Submission], clean: dict[int, _Clean],
           outcomes: list[Outcome | None], limits: Limits, now: dt.datetime) -> None:
    """Count each address's valid requests with one upsert; those past the limit are refused
    and given back. As when counted one by one: an invalid request is not counted, but is
    told 429 rather than 422 once the limit is spent."""
    limit = limits.api_intake_per_address
    if not limit.on:
        return
    by_client: dict[str, list[int]] = {}
    for i, submission in enumerate(submissions):
        by_client.setdefault(submission.client, []).append(i)
    for client, indices in sorted(by_client.items()):  # rows locked in one order in every process
        valid = sum(i in clean for i in indices)
        after = rate_counters.hit(session, limit, client, now, hits=valid)
        used = after - valid
        for i in indices:
            if used + 1 > limit.limit:
                outcomes[i] = (False, _refusal(limit, client, now))
            elif i in clean:
                used += 1
        if used < after:
            rate_counters.give_back(session, limit, client, after - used, now)


def _refusal(limit: rate_counters.Limit, client: str, now: dt.datetime) -> RateLimited:
    try:
        rate_counters.refuse([(limit, client)], Reason.TOO_MANY_INTAKES, now)
    except RateLimited as exc:
        return exc
    raise AssertionError("refuse() always raises")


def _split_repeats(session: Session, accepted: list[tuple[int, _Clean]],
                   since: dt.datetime) -> tuple[list[int], list[int]]:
    """(new tickets, repeats of an open ticket): a repeat has the phone and the words of an
    open ticket received since `since`, or of a request before it in the batch."""
    phones = sorted({c.phone for _, c in accepted if c.phone})
    open_texts: set[tuple[str, str]] = set()
    if phones:
        with session.no_autoflush:
            rows = session.execute(_OPEN_TEXTS_OF_CONTACTS, {"phones": phones, "since": since})
            open_texts = {(phone, fingerprint(body)) for phone, body in rows}
    new, repeats = [], []
    for i, c in accepted:
        if c.phone is not None:
            key = (c.phone, fingerprint(c.body))
            if key in open_texts:
                repeats.append(i)
                continue
            open_texts.add(key)
        new.append(i)
    return new, repeats
