"""示忙 / 示闲: an operator's phone paused in the queues (a break, a meal, training…) or back.

The PBX holds the state (AMI QueuePause, then QueueMemberPause events); the hotline keeps what
it last reported (agent_status) and adds up each phone's paused time per China day. Who may
ask: an operator for the phone they chose on the console, supervisors and admins for any
agent (one who walked away). Each request the PBX accepted is a staff activity."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch import staff_activity
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import local_date, local_day_start, utcnow
from dispatch.errors import InvalidInput, PermissionDenied, Reason
from dispatch.models import AgentStatus
from dispatch.vocabulary import PauseReason


def parse_reason(value: str | None) -> PauseReason:
    try:
        return PauseReason(value or "")
    except ValueError:
        raise InvalidInput("reason", Reason.BAD_PAUSE_REASON, value=value or "") from None


def check_may_pause(actor: Actor, interface: str, own_interface: str | None) -> None:
    """Operators pause and unpause only the phone they sit at; supervisors any."""
    require_role(actor, DISPATCH_ROLES, "pause an agent")
    if actor.role in SUPERVISING_ROLES:
        return
    if interface != own_interface:
        raise PermissionDenied(Reason.NOT_YOUR_PHONE, actor=actor.label, interface=interface)


def record_request(session: Session, actor: Actor, interface: str, paused: bool,
                   reason: PauseReason | None) -> None:
    """The PBX accepted a 示忙 / 示闲 asked by `actor`: on the staff activity log."""
    kind = staff_activity.ActivityKind.AGENT_PAUSED if paused else staff_activity.ActivityKind.AGENT_UNPAUSED
    staff_activity.record(session, kind, actor, target=interface,
                          detail={"reason": reason.value} if paused and reason is not None else None)


def follow(status: AgentStatus, paused: bool, reason: str, at: dt.datetime) -> None:
    """Apply the PBX's paused state to the row: a pause that ends adds its time to its day's
    total (the part after midnight only, for one that ran across)."""
    was = bool(status.paused) and status.paused_since is not None
    if was and not paused:
        _add(status, status.paused_since, at)  # type: ignore[arg-type]
    if paused and not was:
        status.paused_since = at
    elif not paused:
        status.paused_since = None
    status.paused = paused
    status.paused_reason = reason or None if paused else None


def _add(status: AgentStatus, start: dt.datetime, end: dt.datetime) -> None:
    day = local_date(end)
    start = max(start, local_day_start(day))
    if status.paused_day != day:
        status.paused_day, status.paused_seconds = day, 0
    status.paused_seconds = (status.paused_seconds or 0) + max(0, int((end - start).total_seconds()))


def paused_seconds_today(status: AgentStatus, now: dt.datetime | None = None) -> int:
    """The phone's paused time this China day: the pauses ended today and the one going on."""
    now = now or utcnow()
    today = local_date(now)
    seconds = (status.paused_seconds or 0) if status.paused_day == today else 0
    if status.paused and status.paused_since is not None:
        seconds += max(0, int((now - max(status.paused_since, local_day_start(today))).total_seconds()))
    return seconds


@dataclass(frozen=True)
class AgentPause:
    """A phone's paused state as the console shows it."""

    interface: str
    logged_in: bool
    paused: bool
    reason: str | None
    since: dt.datetime | None


def pause_state(session: Session, interface: str) -> AgentPause | None:
    status = session.get(AgentStatus, interface)
    if status is None:
        return None
    return AgentPause(interface, bool(status.logged_in), bool(status.paused), status.paused_reason,
                      status.paused_since)
