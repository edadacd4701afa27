"""Limits counted in the database: one atomic upsert per hit, fixed windows, on either database."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import rate_counters
from dispatch.errors import RateLimited, Reason
from dispatch.models import RateCounter
from dispatch.rate_counters import Limit
from tests.statements import statements_sent

NOON = dt.datetime(2026, 11, 23, 12, 0, 30, tzinfo=dt.timezone.utc)


def test_hits_count_up_within_a_window_and_start_again_in_the_next(session: Session) -> None:
    limit = Limit("test", 3, dt.timedelta(minutes=1))
    assert [rate_counters.hit(session, limit, "10.0.0.1", NOON) for _ in range(4)] == [1, 2, 3, 4]
    next_minute = NOON + dt.timedelta(seconds=30)
    assert rate_counters.hit(session, limit, "10.0.0.1", next_minute) == 1
    assert limit.retry_after(NOON) == 30


def test_taking_up_to_the_limit_passes_and_the_next_is_refused_and_uncounted(session: Session) -> None:
    limit = Limit("test", 3, dt.timedelta(minutes=1))
    checks = [(limit, "10.0.0.1")]
    for _ in range(3):
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    with pytest.raises(RateLimited) as refused:
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    assert (refused.value.limit, refused.value.retry_after, refused.value.reason) == ("test", 30,
                                                                                     Reason.TOO_MANY_LOOKUPS)
    assert rate_counters.count(session, limit, "10.0.0.1", NOON) == 3  # the refused one given back
    rate_counters.take(session, [(limit, "10.0.0.2")], Reason.TOO_MANY_LOOKUPS, NOON)  # another subject
    rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON + dt.timedelta(seconds=30))  # next window


def test_a_day_is_counted_from_midnight_in_china(session: Session) -> None:
    day = Limit("day", 5, dt.timedelta(days=1), dt.timedelta(hours=8))
    before_midnight = dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.timezone.utc)   # 23:59 in Beijing
    after_midnight = before_midnight + dt.timedelta(minutes=2)
    assert day.window_start(before_midnight) == dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.timezone.utc)
    assert rate_counters.hit(session, day, "+8613800138000", before_midnight) == 1
    assert rate_counters.hit(session, day, "+8613800138000", after_midnight) == 1


def test_a_reset_forgets_the_window_and_prune_forgets_old_windows(session: Session) -> None:
    limit = Limit("test", 3, dt.timedelta(minutes=1))
    rate_counters.hit(session, limit, "a", NOON)
    rate_counters.hit(session, limit, "b", NOON)
    rate_counters.reset(session, limit, "a", NOON)
    assert rate_counters.count(session, limit, "a", NOON) == 0
    assert rate_counters.count(session, limit, "b", NOON) == 1
    assert rate_counters.prune(session, NOON + dt.timedelta(hours=2)) == 1
    assert session.scalar(select(func.count()).select_from(RateCounter)) == 0


def test_a_long_subject_still_fits_its_row(session: Session) -> None:
    limit = Limit("login", 3, dt.timedelta(minutes=15))
    subject = "名" * 300
    assert rate_counters.hit(session, limit, subject, NOON) == 1
    assert rate_counters.hit(session, limit, subject, NOON) == 2
    assert len(limit.key(subject)) <= rate_counters.KEY_MAX


def test_concurrent_hits_from_many_connections_are_all_counted(sessions: sessionmaker[Session]) -> None:
    limit = Limit("race", 100, dt.timedelta(hours=1))
    seen: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(5):
            with sessions.begin() as session:
                seen.append(rate_counters.hit(session, limit, "shared", NOON))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 41))  # no hit lost, no count given twice


def test_one_take_counts_every_limit_that_is_on_and_the_used_up_one_refuses_alone(session: Session) -> None:
    per_address = Limit("address", 2, dt.timedelta(minutes=1))
    day = Limit("day", 3, dt.timedelta(days=1), dt.timedelta(hours=8))   # a window from China midnight
    off = Limit("off", 0, dt.timedelta(minutes=1))
    checks = [(off, "10.0.0.1"), (per_address, "10.0.0.1"), (day, "10.0.0.1")]

    def counts(now: dt.datetime) -> list[int]:
        return [rate_counters.count(session, limit, subject, now) for limit, subject in checks]

    with statements_sent(session.connection()) as statements:
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    assert len(statements) == 2  # one upsert for each limit that is on, none for the one off
    rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    with pytest.raises(RateLimited) as refused:
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    assert (refused.value.limit, refused.value.retry_after) == ("address", 30)
    assert counts(NOON) == [0, 2, 2]  # every hit of the refused take given back
    # The next minute's window is empty again; the day's counter refuses on its own, until
    # midnight in China (16:00 UTC).
    later = NOON + dt.timedelta(minutes=1)
    rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, later)
    with pytest.raises(RateLimited) as refused:
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, later)
    assert refused.value.limit == "day"
    assert refused.value.retry_after == (dt.datetime(2026, 11, 23, 16, tzinfo=dt.timezone.utc) - later).seconds
    assert counts(later) == [0, 1, 3]


def test_giving_back_uncounts_one_hit_of_each_limit_that_is_on(session: Session) -> None:
    per_address = Limit("address", 2, dt.timedelta(minutes=1))
    per_ticket = Limit("ticket", 2, dt.timedelta(hours=1))
    off = Limit("off", 0, dt.timedelta(minutes=1))
    checks = [(per_address, "10.0.0.1"), (per_ticket, "20260101-0001"), (off, "10.0.0.1")]
    for _ in range(2):  # a wrong code, then a right one given back: the limits are not used up
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    rate_counters.give_back_each(session, checks, NOON)
    assert [rate_counters.count(session, limit, subject, NOON) for limit, subject in checks] == [1, 1, 0]
    rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
    with pytest.raises(RateLimited):
        rate_counters.take(session, checks, Reason.TOO_MANY_LOOKUPS, NOON)
