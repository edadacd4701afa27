"""Holidays people enter: deadlines across the 2027 Spring Festival move once the State
Council's days are in the table, the coverage says which years stand on what, and bad lines
are refused with their reasons."""
from __future__ import annotations

import datetime as dt
import random
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import calendar_days
from dispatch.actors import Actor
from dispatch.calendar_days import CalendarTable
from dispatch.clock import CHINA
from dispatch.deadlines import DeadlinePolicy, WorkCalendar
from dispatch.errors import NotFound, PermissionDenied, Reason
from dispatch.models import CalendarDay
from dispatch.vocabulary import RequestType, Role, Urgency

TODAY = dt.date(2026, 12, 3)
SPRING_FESTIVAL_2027 = """# 国务院办公厅关于2027年部分节假日安排的通知（节选）
2027-01-01 holiday 元旦
2027-02-06..2027-02-13 节假日 春节
2027-02-14 调休上班 春节
"""
SUPERVISOR = Actor(label="supervisor-li", role=Role.SUPERVISOR)


def enter(session: Session, text: str) -> int:
    planned = calendar_days.plan_import(session, text, TODAY)
    assert planned.problems == (), [p.error.message for p in planned.problems]
    written = calendar_days.apply(session, planned, SUPERVISOR)
    session.commit()
    return written


def china(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=CHINA)


def test_a_deadline_across_the_2027_spring_festival_moves_once_the_holidays_are_entered(session: Session) -> None:
    policy = DeadlinePolicy(calendar=WorkCalendar(table=CalendarTable(check_every=0)))
    received = china(dt.date(2027, 2, 3))  # a Wednesday, a few days before the break
    policy.calendar.sync(session)
    before = policy.deadline(received, RequestType.HELP, Urgency.NORMAL)  # 5 working days
    assert before.astimezone(CHINA).date() == dt.date(2027, 2, 10)  # weekends only: Thu Fri Mon Tue Wed

    assert enter(session, SPRING_FESTIVAL_2027) == 10
    policy.calendar.sync(session)
    after = policy.deadline(received, RequestType.HELP, Urgency.NORMAL)
    # Thu 4, Fri 5, then the break to the 13th; Sun 14 is worked, Mon 15, Tue 16.
    assert after.astimezone(CHINA).date() == dt.date(2027, 2, 16)

    # From inside the break (10 February) five working days: Sun 14, Mon 15 .. Thu 18.
    inside = policy.deadline(china(dt.date(2027, 2, 10)), RequestType.HELP, Urgency.NORMAL)
    assert inside.astimezone(CHINA).date() == dt.date(2027, 2, 18)

    calendar_days.remove(session, dt.date(2027, 2, 14), SUPERVISOR)
    session.commit()
    policy.calendar.sync(session)
    assert not policy.calendar.is_workday(dt.date(2027, 2, 14))  # a Sunday again
    rows = session.scalars(select(CalendarDay).where(CalendarDay.day == dt.date(2027, 2, 14))
                           .order_by(CalendarDay.id)).all()
    assert [(r.kind, r.set_by) for r in rows] == [("workday", "supervisor-li"), ("cleared", "supervisor-li")]


def test_another_process_change_is_seen_after_the_check_interval_not_before(
        sessions: sessionmaker[Session]) -> None:
    table = CalendarTable(check_every=0.5)
    calendar = WorkCalendar(table=table)
    with sessions() as session:
        calendar.sync(session)
        assert calendar.is_workday(dt.date(2027, 1, 1))  # a Friday, in a year nobody knows
    with sessions() as other:  # "another process" enters New Year's Day
        enter(other, "2027-01-01 holiday 元旦")
    with sessions() as session:
        calendar.sync(session)  # checked a moment ago: the remembered answer stands
        assert calendar.is_workday(dt.date(2027, 1, 1))
    time.sleep(0.6)
    with sessions() as session:
        calendar.sync(session)  # the interval is over: the version moved, the table is re-read
        assert not calendar.is_workday(dt.date(2027, 1, 1))
    with sessions() as other:
        enter(other, "2027-01-02 holiday 元旦")
    table.invalidate()  # what a change in this process does: the next sync looks at once
    with sessions() as session:
        calendar.sync(session)
        assert table.get(dt.date(2027, 1, 2)) is not None


def test_the_table_wins_over_the_package_for_years_it_knows(session: Session) -> None:
    calendar = WorkCalendar(table=CalendarTable(check_every=0))
    national_day = dt.date(2026, 10, 1)
    assert not calendar.is_workday(national_day)
    enter(session, "2026-12-07 holiday 城市停工日")  # a Monday, outside the package's holidays
    calendar.sync(session)
    assert not calendar.is_workday(dt.date(2026, 12, 7))
    assert calendar.is_workday(dt.date(2026, 12, 8))


def test_coverage_says_which_years_are_entered_official_or_weekends_only(session: Session) -> None:
    enter(session, SPRING_FESTIVAL_2027)
    days = calendar_days.read_snapshot(session).days
    found = {c.year: c for c in calendar_days.coverage(days, [2026, 2027, 2028])}
    assert (found[2026].basis, found[2026].official) == ("official", True)
    assert (found[2027].basis, found[2027].holidays, found[2027].workdays) == ("entered", 9, 1)
    assert found[2027].missing == ("清明节", "劳动节", "端午节", "中秋节", "国庆节")
    assert found[2026].missing == () and found[2028].missing == ()
    assert (found[2028].basis, found[2028].official) == ("weekends", False)
    assert calendar_days.years_reached(TODAY) == [2026, 2027]


@pytest.mark.parametrize("text, reason", [
    ("2027-02-30 holiday 春节", Reason.NO_SUCH_DATE),
    ("2027/02/03 holiday 春节", Reason.BAD_DATE),
    ("2031-01-01 holiday 元旦", Reason.DATE_OUT_OF_RANGE),
    ("2027-02-10 调休上班 春节", Reason.WORKDAY_NOT_WEEKEND),   # a Wednesday
    ("2027-01-01 holiday 元旦\n2027-01-01 holiday 元旦", Reason.DAY_REPEATED),
    ("2027-02-21..2027-02-15 holiday 春节", Reason.PERIOD_REVERSED),
    ("2027-02-01..2027-02-28 holiday 春节", Reason.PERIOD_TOO_LONG),
    ("2027-01-01 vacation 元旦", Reason.BAD_CALENDAR_KIND),
    ("2027-01-01 元旦", Reason.BAD_CALENDAR_LINE),
    ("# 只有注释\n\n", Reason.NOTHING_TO_IMPORT),
    ("2027-01-01 holiday 元\x00旦", Reason.UNSTORABLE),
])
def test_bad_lines_are_refused_with_their_reason_and_line(session: Session, text: str, reason: Reason) -> None:
    planned = calendar_days.plan_import(session, text, TODAY)
    assert not planned.ok and planned.problems[0].error.reason is reason
    with pytest.raises(Exception):
        calendar_days.apply(session, planned, SUPERVISOR)
    assert session.scalar(select(CalendarDay)) is None


def test_a_day_the_calendar_lacks_is_said_not_to_exist_rather_than_misformatted(session: Session) -> None:
    from web.messages import describe

    planned = calendar_days.plan_import(session, "2027-02-30 holiday 春节", TODAY)
    assert describe(planned.problems[0].error) == "日期「2027-02-30」不存在，请核对月份和日期。"


def test_a_day_set_otherwise_is_refused_and_one_set_alike_is_skipped(session: Session) -> None:
    enter(session, "2027-01-01 holiday 元旦")
    again = calendar_days.plan_import(session, "2027-01-01 holiday 元旦\n2027-01-02 holiday 元旦", TODAY)
    assert ([e.day for e in again.new], [e.day for e in again.unchanged]) == ([dt.date(2027, 1, 2)], [dt.date(2027, 1, 1)])
    clash = calendar_days.plan_import(session, "2027-01-01 holiday 新年", TODAY)
    assert clash.problems[0].error.reason is Reason.DAY_ALREADY_SET and clash.problems[0].line == 1


def test_only_supervisors_change_the_calendar_and_removing_an_unset_day_is_not_found(session: Session) -> None:
    operator = Actor(label="operator-wang", role=Role.OPERATOR)
    planned = calendar_days.plan_import(session, "2027-01-01 holiday 元旦", TODAY)
    with pytest.raises(PermissionDenied):
        calendar_days.apply(session, planned, operator)
    with pytest.raises(NotFound):
        calendar_days.remove(session, dt.date(2027, 1, 1), SUPERVISOR)


def test_any_pasted_text_gives_a_plan_or_problems_never_a_crash(session: Session) -> None:
    from tests.web.fuzzing import text

    rng = random.Random("calendar-lines")
    for _ in range(300):
        lines = "\n".join(rng.choice([text(rng), f"2027-0{rng.randint(1, 9)}-{text(rng)} holiday {text(rng)}",
                                       f"{text(rng)}..2027-02-01 {rng.choice(list(calendar_days.KIND_WORDS))} 春节"])
                          for _ in range(rng.randint(1, 4)))
        planned = calendar_days.plan_import(session, lines, TODAY)
        assert planned.ok or planned.problems or planned.unchanged, lines


def test_the_weekend_fallback_is_logged_only_for_a_year_nobody_entered(
        session: Session, caplog: pytest.LogCaptureFixture) -> None:
    enter(session, SPRING_FESTIVAL_2027)
    calendar = WorkCalendar(table=CalendarTable(check_every=0))
    calendar.sync(session)
    with caplog.at_level("WARNING", logger="dispatch.deadlines"):
        calendar.is_workday(dt.date(2027, 3, 1))
        calendar.is_workday(dt.date(2028, 3, 1))
    assert [r.year for r in caplog.records if getattr(r, "event", "") == "calendar_fallback"] == [2028]
