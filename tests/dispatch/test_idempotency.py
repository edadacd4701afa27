"""Idempotency keys as two web processes meet them: the first request holds its key while it
works, a retry gets its answer, a stale claim or an expired key lets a request go ahead."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch import idempotency
from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput

PRINT = idempotency.fingerprint("/api/v1/tickets", {"body": "路灯坏了"})
ANSWER = idempotency.Answer(201, "application/json", '{"number": "20261207-0001"}')


def test_a_second_request_while_the_first_works_is_told_to_wait_then_gets_its_answer(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as first:
        assert idempotency.claim(first, "api:1.2.3.4", "k", PRINT) is None
    with sessions.begin() as second, pytest.raises(Conflict):
        idempotency.claim(second, "api:1.2.3.4", "k", PRINT)
    with sessions.begin() as first:
        idempotency.record(first, "api:1.2.3.4", "k", ANSWER)
    with sessions.begin() as second:
        assert idempotency.claim(second, "api:1.2.3.4", "k", PRINT) == ANSWER
        with pytest.raises(InvalidInput):
            idempotency.claim(second, "api:1.2.3.4", "k", idempotency.fingerprint("/api/v1/tickets", {"body": "别的"}))
        assert idempotency.claim(second, "api:5.6.7.8", "k", PRINT) is None   # another caller's key


def test_a_claim_left_by_a_dead_process_and_a_key_a_day_old_let_the_request_go_ahead(
        sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with sessions.begin() as session:
        idempotency.claim(session, "s", "dead", PRINT, now=now)
        idempotency.claim(session, "s", "old", PRINT, now=now)
        idempotency.record(session, "s", "old", ANSWER)
    later = now + idempotency.IN_PROGRESS_FOR + dt.timedelta(seconds=1)
    with sessions.begin() as session:
        assert idempotency.claim(session, "s", "dead", PRINT, now=later) is None
        assert idempotency.claim(session, "s", "old", PRINT, now=later) == ANSWER
    next_day = now + idempotency.KEEP_FOR + dt.timedelta(seconds=1)
    with sessions.begin() as session:
        assert idempotency.claim(session, "s", "old", PRINT, now=next_day) is None
    with sessions.begin() as session:
        assert idempotency.prune(session, now=next_day + idempotency.KEEP_FOR + dt.timedelta(seconds=1)) == 2


def test_a_failed_first_attempt_frees_its_key(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        idempotency.claim(session, "s", "k", PRINT)
    with sessions.begin() as session:
        idempotency.release(session, "s", "k")
    with sessions.begin() as session:
        assert idempotency.claim(session, "s", "k", PRINT) is None
