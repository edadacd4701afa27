"""The outbox worker against the Twilio stand-in: crashes at every step, errors, retries."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Iterator

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle, outbox
from dispatch.actors import Actor
from dispatch.models import OutboxMessage
from dispatch.units import City, unit_by_code
from sms_gateway.sender import TwilioSender
from sms_gateway.simulator import TwilioSimulator
from sms_gateway.worker import OutboxWorker
from tests.dispatch.helpers import new_ticket
from tests.sms_gateway.conftest import ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, outbox_rows

FAST = outbox.RetryPolicy(max_attempts=3, base_delay=dt.timedelta(milliseconds=10),
                          lease=dt.timedelta(milliseconds=200))
# A lease long enough that a loaded machine cannot outlive it between two statements.
HELD = dataclasses.replace(FAST, lease=dt.timedelta(seconds=2))
PHONE = "+8613700001234"


@pytest.fixture
def sender(sim: TwilioSimulator) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, api_base=sim.url, timeout=5)


@pytest.fixture
def enqueueing(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    outbox.install(sessions)
    return sessions


def worker(sessions: sessionmaker[Session], sender: TwilioSender) -> OutboxWorker:
    return OutboxWorker(sessions, sender, policy=FAST)


def file_web_ticket(sessions: sessionmaker[Session], phone: str = PHONE) -> int:
    """A change committed with its notification: the 'received' text is now in the outbox."""
    with sessions.begin() as session:
        return new_ticket(session, phone=phone).id


def drain_until_settled(w: OutboxWorker, sessions: sessionmaker[Session], timeout: float = 5.0) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w.drain()
        with sessions() as session:
            rows = outbox_rows(session)
        if all(r.status not in (outbox.PENDING, outbox.SENDING) for r in rows):
            return rows
        time.sleep(0.01)
    raise AssertionError("outbox did not settle")


def test_the_notification_is_written_in_the_same_transaction_as_the_change(
        enqueueing: sessionmaker[Session]) -> None:
    with enqueueing() as session:
        new_ticket(session, phone=PHONE)
        assert [r.kind for r in outbox_rows_uncommitted(session)] == ["received"]
        session.rollback()
    with enqueueing() as session:
        assert outbox_rows(session) == []


def outbox_rows_uncommitted(session: Session) -> list[OutboxMessage]:
    from sqlalchemy import select

    return list(session.scalars(select(OutboxMessage)))


def test_a_crash_between_commit_and_send_still_sends_once_after_restart(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    file_web_ticket(enqueueing)  # ... and the process dies before any worker ran
    restarted = worker(enqueueing, sender)
    assert restarted.drain() == 1
    assert restarted.drain() == 0
    (row,) = outbox_rows(enqueueing())
    assert row.status == "submitted" and row.provider_sid == sim.messages[0].sid
    assert len(sim.sent_to(PHONE)) == 1


def test_a_crash_after_claiming_leaves_the_message_to_the_next_worker_once_its_lease_ends(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    file_web_ticket(enqueueing)
    with enqueueing.begin() as session:
        assert outbox.claim_next(session, HELD) is not None  # ... and dies holding it
    other = worker(enqueueing, sender)
    assert other.drain() == 0  # the lease still holds
    time.sleep(HELD.lease.total_seconds() + 0.05)
    assert other.drain() == 1
    assert len(sim.sent_to(PHONE)) == 1
    assert outbox_rows(enqueueing())[0].attempts == 2


def test_a_crash_after_twilio_took_the_message_does_not_send_it_twice(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    file_web_ticket(enqueueing)
    with enqueueing.begin() as session:
        claim = outbox.claim_next(session, FAST)
    assert claim is not None
    sent = sender.send(claim.recipient, claim.body)  # ... and dies before recording it
    time.sleep(FAST.lease.total_seconds() + 0.05)
    worker(enqueueing, sender).drain()
    assert len(sim.sent_to(PHONE)) == 1
    (row,) = outbox_rows(enqueueing())
    assert row.status == "submitted" and row.provider_sid == sent.sid


def test_twilio_500_is_retried_with_backoff_until_it_passes(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    sim.fail_next(500, 20500, "Internal Server Error", times=2)
    file_web_ticket(enqueueing)
    w = worker(enqueueing, sender)
    assert w.drain() == 1
    (row,) = outbox_rows(enqueueing())
    assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in (row.last_error or "")
    assert row.next_attempt_at > row.updated_at  # backing off, not spinning
    (row,) = drain_until_settled(w, enqueueing)
    assert row.status == "submitted" and row.attempts == 3 and "HTTP 500" in (row.last_error or "")
    assert len(sim.sent_to(PHONE)) == 1


def test_twilio_500_every_time_is_given_up_after_the_last_attempt_and_shown_to_staff(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    sim.fail_next(503, None, "Service Unavailable", times=FAST.max_attempts)
    file_web_ticket(enqueueing)
    (row,) = drain_until_settled(worker(enqueueing, sender), enqueueing)
    assert row.status == "failed" and row.attempts == FAST.max_attempts and "HTTP 503" in row.last_error
    with enqueueing() as session:
        assert [m.id for m in outbox.failed_messages(session)] == [row.id]
    assert sim.sent_to(PHONE) == []


def test_twilio_400_is_not_retried_and_its_error_is_kept(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    sim.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
    file_web_ticket(enqueueing)
    (row,) = drain_until_settled(worker(enqueueing, sender), enqueueing)
    assert (row.status, row.attempts, row.error_code) == ("failed", 1, "21211")
    assert "not a valid phone number" in row.last_error


def test_twilio_saying_the_number_unsubscribed_opts_it_out(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    from dispatch.notifications import is_opted_out

    sim.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    file_web_ticket(enqueueing)
    (row,) = drain_until_settled(worker(enqueueing, sender), enqueueing)
    assert row.status == "opted_out"
    with enqueueing() as session:
        assert is_opted_out(session, PHONE)


def test_wrong_credentials_fail_without_retry(enqueueing: sessionmaker[Session], sim: TwilioSimulator) -> None:
    bad = TwilioSender(ACCOUNT_SID, "wrong-token", HOTLINE_NUMBER, api_base=sim.url, timeout=5)
    file_web_ticket(enqueueing)
    (row,) = drain_until_settled(worker(enqueueing, bad), enqueueing)
    assert (row.status, row.error_code) == ("failed", "20003")


def test_twilio_unreachable_is_retried(enqueueing: sessionmaker[Session]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, HOTLINE_NUMBER, api_base=f"http://127.0.0.1:{port}", timeout=2)
    file_web_ticket(enqueueing)
    (row,) = drain_until_settled(worker(enqueueing, down), enqueueing)
    assert row.status == "failed" and row.attempts == FAST.max_attempts and "ConnectionError" in row.last_error


def test_one_change_can_never_have_two_messages_of_a_kind(
        enqueueing: sessionmaker[Session], units: City, operator: Actor) -> None:
    with enqueueing.begin() as session:
        ticket = new_ticket(session, phone=PHONE)
        event = lifecycle.transfer(session, ticket, unit_by_code(session, "qinyuan"), operator)
    with enqueueing() as session:
        assert sorted(r.kind for r in outbox_rows(session)) == ["received", "transferred"]
        session.add(OutboxMessage(event_id=event.id, ticket_id=ticket.id, kind="transferred", recipient=PHONE,
                                  body="again", created_at=event.at, status="pending", attempts=0,
                                  next_attempt_at=event.at))
        with pytest.raises(IntegrityError):
            session.flush()


def test_two_workers_at_once_send_each_message_once(
        enqueueing: sessionmaker[Session], sender: TwilioSender, sim: TwilioSimulator) -> None:
    phones = [f"+861370000{i:04d}" for i in range(8)]
    for phone in phones:
        file_web_ticket(enqueueing, phone)
    workers = [worker(enqueueing, sender) for _ in range(3)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m.to for m in sim.messages) == phones
    assert all(r.status == "submitted" and r.attempts == 1 for r in outbox_rows(enqueueing()))


@pytest.fixture
def started(enqueueing: sessionmaker[Session], sender: TwilioSender) -> Iterator[OutboxWorker]:
    w = OutboxWorker(enqueueing, sender, policy=FAST, poll_seconds=30)
    outbox.install(enqueueing, on_commit=w.wake)
    w.start()
    yield w
    w.stop()


def test_a_commit_wakes_the_running_worker_at_once(
        started: OutboxWorker, enqueueing: sessionmaker[Session], sim: TwilioSimulator) -> None:
    file_web_ticket(enqueueing)
    deadline = time.monotonic() + 5
    while not sim.sent_to(PHONE):
        assert time.monotonic() < deadline, "the worker was not woken (its poll is 30 s)"
        time.sleep(0.01)
