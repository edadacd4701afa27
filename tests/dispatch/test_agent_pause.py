"""示忙 / 示闲 in the domain: whose phone one may pause, and the paused time of a China day."""
from __future__ import annotations

import datetime as dt

import pytest

from dispatch import agent_pause
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, PermissionDenied
from dispatch.models import AgentStatus
from dispatch.vocabulary import PauseReason, Role

UTC = dt.timezone.utc


def test_an_operator_pauses_only_their_own_phone_and_a_supervisor_anyones() -> None:
    operator = Actor("operator", 1, Role.OPERATOR)
    agent_pause.check_may_pause(operator, "PJSIP/7001", "PJSIP/7001")
    with pytest.raises(PermissionDenied):
        agent_pause.check_may_pause(operator, "PJSIP/7002", "PJSIP/7001")
    with pytest.raises(PermissionDenied):
        agent_pause.check_may_pause(Actor("housing", 4, Role.UNIT_STAFF, 1), "PJSIP/7001", "PJSIP/7001")
    agent_pause.check_may_pause(Actor("supervisor", 2, Role.SUPERVISOR), "PJSIP/7002", None)
    assert agent_pause.parse_reason("meal") is PauseReason.MEAL
    with pytest.raises(InvalidInput):
        agent_pause.parse_reason("nap")


def test_paused_time_counts_the_pauses_of_today_only_and_the_one_going_on() -> None:
    status = AgentStatus(interface="PJSIP/7001", paused=False, paused_seconds=0)
    # China midnight is 16:00 UTC: a pause from 15:50 to 16:10 UTC counts 10 minutes on the new day.
    agent_pause.follow(status, True, "meal", dt.datetime(2026, 3, 2, 15, 50, tzinfo=UTC))
    assert (status.paused, status.paused_reason) == (True, "meal")
    agent_pause.follow(status, False, "", dt.datetime(2026, 3, 2, 16, 10, tzinfo=UTC))
    assert (status.paused, status.paused_reason, status.paused_since) == (False, None, None)
    assert (status.paused_day, status.paused_seconds) == (dt.date(2026, 3, 3), 600)
    agent_pause.follow(status, True, "break", dt.datetime(2026, 3, 3, 1, 0, tzinfo=UTC))
    # the same pause reported again (another queue's event) does not start it anew
    agent_pause.follow(status, True, "break", dt.datetime(2026, 3, 3, 1, 2, tzinfo=UTC))
    assert agent_pause.paused_seconds_today(status, dt.datetime(2026, 3, 3, 1, 5, tzinfo=UTC)) == 600 + 300
    agent_pause.follow(status, False, "", dt.datetime(2026, 3, 3, 1, 5, tzinfo=UTC))
    # the next China day starts from nothing
    assert agent_pause.paused_seconds_today(status, dt.datetime(2026, 3, 3, 16, 30, tzinfo=UTC)) == 0
