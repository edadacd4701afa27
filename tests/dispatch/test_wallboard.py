"""The wallboard's figures and alarms against a small call centre worked out by hand."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import reports, wallboard
from dispatch.clock import CHINA
from dispatch.models import AgentStatus, Call, Callback

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)
# Here the session wrote the scenario first: on PostgreSQL the wallboard's one-snapshot
# isolation cannot apply to a transaction already under way (it does in a request's own).
pytestmark = pytest.mark.filterwarnings("ignore:Connection is already established")


def ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def call(linkedid: str, joined: dt.datetime, outcome: str, wait: float | None, *, agent: str | None = None,
         talk: float | None = None) -> Call:
    answered = outcome == "answered"
    ended = None if outcome == "open" else joined + dt.timedelta(seconds=(wait or 0) + (talk or 0))
    return Call(linkedid=linkedid, caller="13800000000", queue="12345", started_at=joined, entered_queue_at=joined,
                answered_at=joined + dt.timedelta(seconds=wait or 0) if answered else None, ended_at=ended,
                wait_seconds=wait, talk_seconds=talk, outcome=outcome, agent=agent, ring_no_answers=0)


def agent(interface: str, **state: bool) -> AgentStatus:
    return AgentStatus(interface=interface, member_name=interface[-4:], queues=["12345"], logged_in=True,
                       paused=state.get("paused", False), ringing=state.get("ringing", False),
                       on_call=state.get("on_call", False), changed_at=ago(600))


@pytest.fixture
def centre(session: Session) -> None:
    # Today (China time, from 00:00 to 10:00): 10 calls offered.
    #   answered within 15 s: 6 (waits 3, 5, 8, 10, 12, 15); within 20 s: 7 (+18); after 20 s: 1 (40)
    #   abandoned: 2 (waits 4 and 30); one of them is a short abandon under a 5 s setting
    today = [call("a1", ago(7200), "answered", 3, agent="PJSIP/7001", talk=60),
             call("a2", ago(7000), "answered", 5, agent="PJSIP/7002", talk=60),
             call("a3", ago(6800), "answered", 8, agent="PJSIP/7001", talk=60),
             call("a4", ago(6600), "answered", 10, agent="PJSIP/7002", talk=60),
             call("a5", ago(6400), "answered", 12, agent="PJSIP/7001", talk=60),
             call("a6", ago(6200), "answered", 15, agent="PJSIP/7002", talk=60),
             call("a7", ago(6000), "answered", 18, agent="PJSIP/7001", talk=60),
             call("a8", ago(5800), "answered", 40, agent="PJSIP/7002", talk=60),
             call("b1", ago(5600), "abandoned", 4),
             call("b2", ago(5400), "abandoned", 30)]
    # Yesterday evening, inside the last 24 hours: 2 offered, both abandoned -> 8 of 12 answered.
    evening = [call("y1", ago(15 * 3600), "abandoned", 50), call("y2", ago(16 * 3600), "abandoned", 50)]
    # Two days ago: outside every window.
    old = [call("o1", ago(50 * 3600), "abandoned", 50)]
    # Waiting now: for 20 s and 6 s; one open call answered already (talking); one stale open row.
    waiting = [call("w1", ago(20), "open", None), call("w2", ago(6), "open", None),
               call("t1", ago(40), "answered", 10, agent="PJSIP/7003"),
               call("s1", ago(5 * 3600), "open", None)]
    waiting[2].outcome, waiting[2].ended_at = "open", None
    # A call 7004 finished 30 s ago: in wrap-up while wrapuptime is 60 s.
    done = call("d1", ago(200), "answered", 10, agent="PJSIP/7004", talk=160)
    session.add_all([*today, *evening, *old, *waiting, done])
    session.add_all([agent("PJSIP/7001"), agent("PJSIP/7002", ringing=True), agent("PJSIP/7003", on_call=True),
                     agent("PJSIP/7004"), agent("PJSIP/7005", paused=True),
                     agent("PJSIP/7006", paused=True, on_call=True),
                     AgentStatus(interface="PJSIP/7009", queues=[], logged_in=False, paused=False, ringing=False,
                                 on_call=False, changed_at=ago(600))])
    session.flush()
    session.add_all([Callback(call_id=today[8].id, caller="13800000000", created_at=ago(5600), status="pending"),
                     Callback(call_id=today[9].id, caller="13800000000", created_at=ago(5400), status="pending"),
                     Callback(call_id=evening[0].id, caller="13800000000", created_at=ago(15 * 3600), status="done")])
    session.flush()


def test_the_wallboard_counts_match_the_hand_count(session: Session, centre: None) -> None:
    policy = wallboard.WallboardPolicy(calls=reports.CallPolicy(service_level_seconds=20, short_abandon_seconds=5),
                                       wrap_up_seconds=60)
    board = wallboard.wallboard(session, now=NOW, policy=policy)
    f = board.as_dict()
    assert f["waiting"] == 2
    assert f["longest_wait_seconds"] == pytest.approx(20.0)
    assert f["agents"] == {"ready": 1, "ringing": 1, "talking": 2, "wrap_up": 1, "paused": 1}
    t = f["today"]
    # Offered today: the 10 above, w1, w2, t1, d1 and the stale s1 (it did join the queue): 15.
    # Answered: a1-a8, t1, d1 = 10; within 15 s: a1-a6, t1 and d1 (10 s each) = 8; within 20 s: + a7.
    assert (t["offered"], t["answered"], t["abandoned"]) == (15, 10, 2)
    assert t["answered_within_15s"] == 8 and t["answer_rate_15s"] == pytest.approx(8 / 15)
    assert t["service_level"] == pytest.approx(9 / 15)
    assert t["short_abandoned"] == 1
    # The short abandon leaves both sides of the abandonment rate only.
    assert t["abandonment_rate"] == pytest.approx(1 / 14)
    assert t["answer_rate"] == pytest.approx(10 / 15)
    # The last 24 hours: + y1, y2; callers still waiting (w1, w2, s1) are not counted yet.
    assert f["last_24h"]["offered"] == 14 and f["last_24h"]["answer_rate"] == pytest.approx(10 / 14)
    assert f["callbacks_pending"] == 2
    assert f["alarms"] == ["long_wait", "low_answer_rate"]


def test_short_abandons_count_everywhere_when_the_setting_is_off(session: Session, centre: None) -> None:
    t = wallboard.wallboard(session, now=NOW).as_dict()["today"]
    assert t["short_abandoned"] == 0 and t["abandonment_rate"] == pytest.approx(2 / 15)
    assert t["service_level_seconds"] == 20 and t["service_level"] == pytest.approx(9 / 15)
    # A 10 s service level counts the answers within 10 s: waits 3, 5, 8, 10, t1's 10 and d1's 10.
    ten = wallboard.wallboard(session, now=NOW, policy=wallboard.WallboardPolicy(
        calls=reports.CallPolicy(service_level_seconds=10))).as_dict()["today"]
    assert ten["service_level"] == pytest.approx(6 / 15)


def test_no_wrap_up_without_a_wrap_up_time(session: Session, centre: None) -> None:
    agents = wallboard.wallboard(session, now=NOW).as_dict()["agents"]
    assert agents == {"ready": 2, "ringing": 1, "talking": 2, "wrap_up": 0, "paused": 1}


def test_a_quiet_centre_raises_no_alarm_but_an_empty_one_does(session: Session) -> None:
    session.add_all([call("a1", ago(600), "answered", 5, agent="PJSIP/7001", talk=60), agent("PJSIP/7001")])
    session.flush()
    assert wallboard.wallboard(session, now=NOW).alarms == []
    # The caller waiting 15 s is not yet late; at 16 s it is.
    session.add(call("w1", ago(15), "open", None))
    session.flush()
    assert wallboard.wallboard(session, now=NOW).alarms == []
    assert wallboard.wallboard(session, now=NOW + dt.timedelta(seconds=1)).alarms == ["long_wait"]
    session.get_one(AgentStatus, "PJSIP/7001").paused = True
    session.flush()
    assert "no_agent_ready" in wallboard.wallboard(session, now=NOW).alarms


def test_the_agent_list_names_the_operator_at_each_phone(session: Session) -> None:
    """坐席状态 names the account that sits at the phone, as the supervisor's 话务 table does; the
    PBX's own member name only for a phone no account holds."""
    from dispatch import staff
    from dispatch.vocabulary import Role

    staff.create_user(session, "wangfang", "agent list pass 1", Role.OPERATOR, display_name="话务员 王芳",
                      phone_extension="7001")
    session.add_all([agent("PJSIP/7001"), agent("PJSIP/7009")])
    session.flush()
    listed = wallboard.wallboard(session, now=NOW).as_dict()["agent_list"]
    assert [(a["interface"], a["name"]) for a in listed] == [("PJSIP/7001", "话务员 王芳"), ("PJSIP/7009", "7009")]
