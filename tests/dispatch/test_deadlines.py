"""Deadlines in working days on the Chinese calendar."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dispatch.clock import CHINA
from dispatch.deadlines import DeadlinePolicy, WorkCalendar, load_policy
from dispatch.errors import InvalidInput, Reason
from dispatch.vocabulary import RequestType, Urgency


def china(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA)


def test_deadline_skips_national_day_and_counts_the_saturday_made_a_workday() -> None:
    # 2026: 1-7 October are holidays; Saturday 10 October is a working day.
    # Received Wednesday 30 September: day 1 = Thu 8 Oct, day 2 = Fri 9 Oct, day 3 = Sat 10 Oct.
    deadline = WorkCalendar().add_working_days(china(2026, 9, 30, 16, 0), 3)
    assert deadline == china(2026, 10, 10, 23, 59, 59)


def test_deadline_skips_an_ordinary_weekend() -> None:
    # Received Friday 20 November 2026, 2 working days: Mon 23, Tue 24.
    assert WorkCalendar().add_working_days(china(2026, 11, 20, 9, 0), 2) == china(2026, 11, 24, 23, 59, 59)


def test_day_of_receipt_is_counted_in_china_time_not_utc() -> None:
    # 2026-11-19 17:00 UTC is already Friday 20 November 01:00 in China.
    received = dt.datetime(2026, 11, 19, 17, 0, tzinfo=dt.timezone.utc)
    assert WorkCalendar().add_working_days(received, 1) == china(2026, 11, 23, 23, 59, 59)


def test_years_without_official_data_fall_back_to_monday_to_friday(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkCalendar()
    # Friday 2 July 2100 + 1 working day = Monday 5 July 2100.
    assert calendar.add_working_days(china(2100, 7, 2, 10, 0), 1) == china(2100, 7, 5, 23, 59, 59)
    assert "no official holiday data for 2100" in caplog.text


def test_policy_depends_on_type_and_urgency() -> None:
    policy = DeadlinePolicy()
    assert policy.days_for(RequestType.COMPLAINT, Urgency.NORMAL) > policy.days_for(RequestType.COMPLAINT, Urgency.URGENT)
    assert policy.days_for(RequestType.CONSULTATION, Urgency.NORMAL) < policy.days_for(RequestType.REPORT, Urgency.NORMAL)


def test_city_file_overrides_days_and_adds_its_own_closure(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.json"
    path.write_text(json.dumps({"working_days": {"help": {"urgent": 2}}, "holidays": ["2026-11-23"]}))
    policy = load_policy(path)
    assert policy.days_for(RequestType.HELP, Urgency.URGENT) == 2
    assert policy.days_for(RequestType.HELP, Urgency.NORMAL) == DeadlinePolicy().days_for(RequestType.HELP, Urgency.NORMAL)
    # Friday 20 Nov + 2 working days, Monday 23 closed: Tue 24, Wed 25.
    assert policy.deadline(china(2026, 11, 20, 9, 0), RequestType.HELP, Urgency.URGENT) == china(2026, 11, 25, 23, 59, 59)


@pytest.mark.parametrize("content", ['{"working_days": {"gossip": {"normal": 1}}}',
                                     '{"working_days": {"help": {"normal": -1}}}', "not json"])
def test_a_broken_deadline_file_is_refused_clearly(tmp_path: Path, content: str) -> None:
    path = tmp_path / "deadlines.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as caught:
        load_policy(path)
    assert caught.value.reason is Reason.FILE_UNREADABLE and caught.value.params["path"] == str(path)
