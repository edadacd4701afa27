"""The call wallboard (话务实时监控): what a call centre's wall screen shows now, read from
the rows the AMI bridge keeps current (open calls, agent states, callbacks), so every
process shows the same whichever one runs the bridge.

Alarms follow GB/T 33358-2016: a caller waiting longer than 15 s, a connection rate
(接通率) under 95% over the last 24 hours (callers still waiting not counted yet), and
nobody ready to take the next call.

A caller the queue let go unanswered (its timeout: the dialplan then plays a message, takes a
voicemail or offers a menu) has the outcome `timeout` from that moment, while still on the line:
not waiting (no longer in the queue, so not in the longest wait), not answered, and not
abandoned either (放弃 is the caller hanging up while waiting; GB/T 33358-2016 counts such a
call as offered and not connected, 未接通). It counts against the answer rates at once, the
24-hour one included, and joins the callback list."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch import agent_pause, staff
from dispatch.clock import api_time, local_date, utcnow
from dispatch.models import AgentStatus, Call, Callback
from dispatch.reports import ANSWER_IN_TIME_SECONDS, CallFigures, CallPolicy, Period, call_figures, \
    call_figures_between
from dispatch.telephony import CALLBACK_PENDING

MAX_WAIT_SECONDS = ANSWER_IN_TIME_SECONDS
MIN_ANSWER_RATE_24H = 0.95
# An open call older than this lost its Hangup (the bridge's sweep closes it later): not waiting.
STALE_AFTER = dt.timedelta(hours=4)

AGENT_STATES = ("ready", "ringing", "talking", "wrap_up", "paused")
ALARMS = ("long_wait", "low_answer_rate", "no_agent_ready")


@dataclass(frozen=True)
class WallboardPolicy:
    calls: CallPolicy = field(default_factory=CallPolicy)
    wrap_up_seconds: int = 0  # queues.conf wrapuptime: no next call for this long after one


@dataclass(frozen=True)
class Agent:
    interface: str
    name: str | None
    state: str  # one of AGENT_STATES
    since: dt.datetime
    paused_reason: str | None = None  # 示忙 原因 while paused (a talking agent may be paused too)
    paused_seconds_today: int = 0


@dataclass(frozen=True)
class Wallboard:
    at: dt.datetime
    waiting: int
    oldest_waiting_since: dt.datetime | None
    agents: list[Agent]
    today: CallFigures
    last_24h: CallFigures
    callbacks_pending: int
    timed_out_today: int = 0      # offered today, let go by the queue unanswered
    timed_out_on_line: int = 0    # of those, still on the line (voicemail, a message, a menu)

    @property
    def longest_wait_seconds(self) -> float:
        if self.oldest_waiting_since is None:
            return 0.0
        return max(0.0, (self.at - self.oldest_waiting_since).total_seconds())

    @property
    def agents_by_state(self) -> dict[str, int]:
        counts = dict.fromkeys(AGENT_STATES, 0)
        for agent in self.agents:
            counts[agent.state] += 1
        return counts

    @property
    def alarms(self) -> list[str]:
        raised = []
        if self.longest_wait_seconds > MAX_WAIT_SECONDS:
            raised.append("long_wait")
        rate_24h = self.last_24h.answer_rate
        if rate_24h is not None and rate_24h < MIN_ANSWER_RATE_24H:
            raised.append("low_answer_rate")
        if self.agents_by_state["ready"] == 0:
            raised.append("no_agent_ready")
        return raised

    def as_dict(self) -> dict[str, Any]:
        today = self.today.as_dict()
        return {
            "at": api_time(self.at),
            "waiting": self.waiting,
            "oldest_waiting_since": api_time(self.oldest_waiting_since) if self.oldest_waiting_since else None,
            "longest_wait_seconds": round(self.longest_wait_seconds, 1),
            "agents": self.agents_by_state,
            "agent_list": [{"interface": a.interface, "name": a.name, "state": a.state,
                            "since": api_time(a.since), "paused_reason": a.paused_reason,
                            "paused_seconds_today": a.paused_seconds_today} for a in self.agents],
            "today": {key: today[key] for key in (
                "offered", "answered", "abandoned", "short_abandoned", "answer_rate", "abandonment_rate",
                "answered_within_15s", "answer_rate_15s", "service_level_seconds", "service_level",
                "asa_seconds")} | {"timed_out": self.timed_out_today},
            "timed_out_on_line": self.timed_out_on_line,
            "last_24h": {"offered": self.last_24h.offered, "answered": self.last_24h.answered,
                         "answer_rate": self.last_24h.answer_rate},
            "callbacks_pending": self.callbacks_pending,
            "alarms": self.alarms,
            "thresholds": {"max_wait_seconds": MAX_WAIT_SECONDS, "min_answer_rate_24h": MIN_ANSWER_RATE_24H},
        }


def agent_state(status: AgentStatus, last_call_ended: dt.datetime | None, now: dt.datetime,
                wrap_up_seconds: int) -> str:
    """One state per agent, the busiest first: a paused agent who is talking is talking."""
    if status.on_call:
        return "talking"
    if status.ringing:
        return "ringing"
    if status.paused:
        return "paused"
    if (wrap_up_seconds and last_call_ended is not None
            and now - last_call_ended < dt.timedelta(seconds=wrap_up_seconds)):
        return "wrap_up"
    return "ready"


def _agents(session: Session, now: dt.datetime, wrap_up_seconds: int) -> list[Agent]:
    statuses = list(session.scalars(select(AgentStatus).where(AgentStatus.logged_in.is_(True))
                                    .order_by(AgentStatus.interface)))
    ended: dict[str, dt.datetime] = {}
    if wrap_up_seconds and statuses:
        since = now - dt.timedelta(seconds=wrap_up_seconds)
        ended = dict(session.execute(
            select(Call.agent, func.max(Call.ended_at))
            .where(Call.agent.in_([s.interface for s in statuses]), Call.answered_at.is_not(None),
                   Call.ended_at >= since, Call.entered_queue_at >= since - STALE_AFTER)
            .group_by(Call.agent)).all())
    # Named as the supervisor's 话务 table names them: the account at that phone (话务员 王芳), not
    # the PBX's member name (Wang Fang), which is kept for a phone no account holds.
    names = staff.names_by_extension(session) if statuses else {}
    agents = []
    for status in statuses:
        last = ended.get(status.interface)
        state = agent_state(status, last, now, wrap_up_seconds)
        since = last if state == "wrap_up" and last is not None else status.changed_at
        agents.append(Agent(status.interface, names.get(staff.extension_of(status.interface)) or status.member_name,
                            state, since,
                            status.paused_reason if status.paused else None,
                            agent_pause.paused_seconds_today(status, now)))
    return agents


def wallboard(session: Session, *, now: dt.datetime | None = None,
              policy: WallboardPolicy = WallboardPolicy()) -> Wallboard:
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for every figure: under READ COMMITTED each statement sees the commits
        # made since the last, and a call ending in between was both waiting and abandoned.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    waiting, oldest = session.execute(
        select(func.count(Call.id), func.min(Call.entered_queue_at))
        .where(Call.entered_queue_at >= now - STALE_AFTER, Call.entered_queue_at <= now,
               Call.outcome == "open", Call.answered_at.is_(None), Call.ended_at.is_(None))).one()
    today = local_date(now)
    day = Period(today, today)
    timed_out, on_line = session.execute(
        select(func.count(Call.id), func.count(case((Call.ended_at.is_(None), Call.id))))
        .where(Call.entered_queue_at >= day.start, Call.entered_queue_at < day.end,
               Call.outcome == "timeout")).one()
    pending = session.scalar(select(func.count(Callback.id)).where(Callback.status == CALLBACK_PENDING))
    return Wallboard(
        at=now, waiting=int(waiting), oldest_waiting_since=oldest,
        agents=_agents(session, now, policy.wrap_up_seconds),
        today=call_figures(session, Period(today, today), policy.calls),
        last_24h=call_figures_between(session, now - dt.timedelta(hours=24), now, policy.calls, settled=True),
        callbacks_pending=int(pending or 0), timed_out_today=int(timed_out), timed_out_on_line=int(on_line))
